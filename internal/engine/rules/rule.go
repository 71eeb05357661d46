package rules

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/tenon-crm/tenon/internal/platform/access"
	"github.com/tenon-crm/tenon/internal/platform/apperr"
	"github.com/tenon-crm/tenon/internal/platform/jobs"
	"github.com/tenon-crm/tenon/internal/platform/meta"
	"github.com/tenon-crm/tenon/internal/platform/netguard"
	"github.com/tenon-crm/tenon/internal/platform/notify"
	"github.com/tenon-crm/tenon/internal/platform/records"
)

// Rule is a rule compiled for running: its trigger checked, its condition
// and every expression of its actions compiled within the limits.
type Rule struct {
	ID      int64
	Version int64
	Name    string
	Entity  string
	Enabled bool
	Trigger Trigger
	// Cost is the total static cost of the rule's expressions.
	Cost int

	ent         *meta.Entity
	statusValue any // status_entered: Trigger.Value in canonical form
	cond        *program
	actions     []*compiled
	token       string
	// needs says what the runs of the rule read beyond the record.
	needsOld bool
}

// compiled is one action, checked and with its expressions compiled.
type compiled struct {
	Action
	index   int
	mapping []mapped     // set_fields, create_record, update_linked
	target  *meta.Entity // create_record's entity; update_linked's records
	reverse bool         // update_linked: records of target linking here through Field
	// assign_owner
	user, def int64
	users     []int64
	byRule    []ownerRule
	// notify, create_task
	toUsers     []int64
	title, body *template
	desc        *template
	due, remind *program
	robot       int64
	// start_flow
	definition int64
	// create_task assignee: a user id, or a field name / owner_manager.
	assigneeUser int64
}

// mapped is one field of a mapping: a constant in input form, or a
// program computing it.
type mapped struct {
	field string
	f     *meta.Field // nil for owner
	value any
	prog  *program
}

type ownerRule struct {
	when *program
	user int64
}

// ruleFromRecord compiles a stored rule record (canonical values). With
// check it also verifies what needs the database (users, roles, the least
// loaded filter), as when a rule is saved.
func (e *Engine) ruleFromRecord(ctx context.Context, rec records.Record, check bool) (*Rule, error) {
	r := &Rule{ID: rec.ID(), Version: rec.Version()}
	r.Name, _ = rec["name"].(string)
	r.Entity, _ = rec["entity"].(string)
	r.Enabled, _ = rec["enabled"].(bool)
	r.token, _ = rec["hook_token"].(string)
	cond, _ := rec["condition"].(string)
	return e.compileRule(ctx, r, rawJSON(rec["trigger"]), strings.TrimSpace(cond), rawJSON(rec["actions"]), check)
}

// rawJSON returns a json field's canonical value as bytes.
func rawJSON(x any) []byte {
	switch v := x.(type) {
	case json.RawMessage:
		return v
	case nil:
		return nil
	}
	b, _ := json.Marshal(x)
	return b
}

// compileRule checks and compiles a rule; errors are one 422 listing every
// problem found, each at the rule's field it is about.
func (e *Engine) compileRule(ctx context.Context, r *Rule, trigger []byte, cond string, actions []byte, check bool) (*Rule, error) {
	var errs []apperr.FieldError
	ent, ok := e.recs.Registry().Get(r.Entity)
	if !ok || r.Entity == Entity {
		return nil, apperr.Fields(apperr.Field("entity", "rule_entity_unknown", "entity", r.Entity))
	}
	r.ent = ent
	c := &compiler{e: e, ent: ent, limits: e.limits}
	if len(trigger) == 0 {
		errs = append(errs, apperr.Field("trigger", "required"))
	} else {
		t, fes := parseTrigger(trigger)
		errs = append(errs, fes...)
		if len(fes) == 0 {
			r.Trigger = t
			errs = append(errs, e.checkTrigger(r)...)
		}
	}
	if cond != "" {
		r.cond = c.compile("condition", cond, nil)
	}
	if len(actions) == 0 {
		errs = append(errs, apperr.Field("actions", "required"))
	} else {
		list, fes := parseActions(actions, e.limits.MaxActions)
		errs = append(errs, fes...)
		if len(fes) == 0 {
			for i := range list {
				a := &compiled{Action: list[i], index: i}
				errs = append(errs, e.checkAction(ctx, c, r, a, check)...)
				r.actions = append(r.actions, a)
			}
		}
	}
	errs = append(errs, c.errs...)
	r.Cost = c.total
	if len(errs) == 0 && r.Cost > e.limits.MaxRuleCost {
		errs = append(errs, apperr.Field("actions", "rule_too_costly", "cost", r.Cost, "max", e.limits.MaxRuleCost))
	}
	if len(errs) > 0 {
		return nil, apperr.Fields(errs...)
	}
	for _, p := range r.programs() {
		if containsStr(p.refs, "old") {
			r.needsOld = true
		}
	}
	return r, nil
}

// programs lists every expression of the rule's actions (not the
// condition).
func (r *Rule) programs() []*program {
	var out []*program
	for _, a := range r.actions {
		for _, m := range a.mapping {
			if m.prog != nil {
				out = append(out, m.prog)
			}
		}
		for _, br := range a.byRule {
			out = append(out, br.when)
		}
		out = append(out, a.title.programs()...)
		out = append(out, a.body.programs()...)
		out = append(out, a.desc.programs()...)
		for _, p := range []*program{a.due, a.remind} {
			if p != nil {
				out = append(out, p)
			}
		}
	}
	return out
}

// hasRecord reports whether runs of the rule have a record to work on.
func (r *Rule) hasRecord() bool {
	return r.Trigger.Type != TriggerWebhook || r.Trigger.MatchField != ""
}

// checkTrigger validates the parameters of the trigger's type.
func (e *Engine) checkTrigger(r *Rule) []apperr.FieldError {
	t, ent := &r.Trigger, r.ent
	bad := func(field, reason string) []apperr.FieldError {
		return ferrs("trigger."+field, "rule_trigger_invalid", "reason", reason)
	}
	fieldOf := func(name string) *meta.Field {
		return ent.Field(name)
	}
	switch t.Type {
	case TriggerFieldChanged:
		if len(t.Fields) == 0 {
			return bad("fields", "name at least one field")
		}
		for _, n := range t.Fields {
			if n != "owner" && fieldOf(n) == nil {
				return ferrs("trigger.fields", "rule_field_unknown", "entity", ent.Name, "field", n)
			}
		}
	case TriggerStatusEntered:
		f := fieldOf(t.Field)
		if f == nil {
			return ferrs("trigger.field", "rule_field_unknown", "entity", ent.Name, "field", t.Field)
		}
		switch f.Type {
		case "select", "text", "boolean", "integer", "user", "link":
		default:
			return bad("field", "a status is a select, text, boolean, integer, user or link field")
		}
		if t.Value == nil {
			return bad("value", "name the value the field enters")
		}
		v, err := e.recs.Registry().Types()[f.Type].Normalize(f, t.Value)
		if err != nil || v == nil {
			return bad("value", fmt.Sprintf("%v is not a value of %s", t.Value, f.Name))
		}
		r.statusValue = v
	case TriggerSchedule:
		if _, err := jobs.ParseCron(t.Cron); err != nil {
			return bad("cron", err.Error())
		}
		if t.Timezone != "" {
			if _, err := time.LoadLocation(t.Timezone); err != nil {
				return bad("timezone", "unknown time zone "+t.Timezone)
			}
		}
		if t.Limit < 0 || t.Limit > e.limits.ScanMatches {
			return bad("limit", fmt.Sprintf("between 1 and %d", e.limits.ScanMatches))
		}
	case TriggerDate:
		if fieldOf(t.Field) == nil && t.Field != "created_at" && t.Field != "updated_at" {
			return ferrs("trigger.field", "rule_field_unknown", "entity", ent.Name, "field", t.Field)
		}
		if dateFieldType(ent, t.Field) == "" {
			return bad("field", "a date or datetime field is needed")
		}
		if t.OffsetDays < -3660 || t.OffsetDays > 3660 {
			return bad("offset_days", "at most ten years before or after")
		}
		if t.Limit < 0 || t.Limit > e.limits.ScanMatches {
			return bad("limit", fmt.Sprintf("between 1 and %d", e.limits.ScanMatches))
		}
	case TriggerWebhook:
		if (t.MatchField == "") != (t.MatchKey == "") {
			return bad("match_field", "match_field and match_key go together")
		}
		if t.MatchField != "" && t.MatchField != "id" {
			f := fieldOf(t.MatchField)
			if f == nil {
				return ferrs("trigger.match_field", "rule_field_unknown", "entity", ent.Name, "field", t.MatchField)
			}
			switch f.Type {
			case "text", "select", "autonumber", "barcode", "integer", "email", "phone":
			default:
				return bad("match_field", "match on a text, number or code field")
			}
		}
	}
	return nil
}

// checkAction validates one action and compiles its expressions.
func (e *Engine) checkAction(ctx context.Context, c *compiler, r *Rule, a *compiled, check bool) []apperr.FieldError {
	path := fmt.Sprintf("actions[%d]", a.index)
	bad := func(key, reason string) []apperr.FieldError {
		return ferrs(path+key, "rule_action_invalid", "reason", reason)
	}
	if !r.hasRecord() && containsStr(recordActions, a.Type) {
		return ferrs(path+".type", "rule_record_required", "action", a.Type)
	}
	reg := e.recs.Registry()
	var errs []apperr.FieldError
	users := func(key string, ids ...string) []int64 {
		out, fes := e.checkUsers(ctx, path+key, ids, check)
		errs = append(errs, fes...)
		return out
	}
	switch a.Type {
	case ActionSetFields:
		a.target = r.ent
		errs = append(errs, e.checkMapping(c, a, path, r.ent, nil)...)
	case ActionCreateRecord:
		te, ok := reg.Get(a.Entity)
		if !ok || a.Entity == Entity {
			return ferrs(path+".entity", "rule_entity_unknown", "entity", a.Entity)
		}
		a.target = te
		errs = append(errs, e.checkMapping(c, a, path, te, nil)...)
	case ActionUpdateLinked:
		switch {
		case a.Link != "" && a.Entity == "" && a.Field == "":
			f := r.ent.Field(a.Link)
			if f == nil || (f.Type != "link" && f.Type != "multi_link") {
				return bad(".link", a.Link+" is not a link field of "+r.ent.Name)
			}
			te, ok := reg.Get(f.Target)
			if !ok {
				return ferrs(path+".link", "rule_entity_unknown", "entity", f.Target)
			}
			a.target = te
		case a.Link == "" && a.Entity != "" && a.Field != "":
			te, ok := reg.Get(a.Entity)
			if !ok || a.Entity == Entity {
				return ferrs(path+".entity", "rule_entity_unknown", "entity", a.Entity)
			}
			f := te.Field(a.Field)
			if f == nil || (f.Type != "link" && f.Type != "multi_link") || f.Target != r.ent.Name {
				return bad(".field", a.Field+" of "+a.Entity+" does not link to "+r.ent.Name)
			}
			a.target, a.reverse = te, true
		default:
			return bad(".link", "name either link, or entity and field")
		}
		errs = append(errs, e.checkMapping(c, a, path, a.target, a.target)...)
	case ActionAssignOwner:
		if a.Field != "" && a.Field != "owner" {
			if f := r.ent.Field(a.Field); f == nil || f.Type != "user" {
				return bad(".field", a.Field+" is not a user field of "+r.ent.Name)
			}
		}
		switch a.Strategy {
		case StrategyFixed:
			if ids := users(".user", a.User); len(ids) == 1 {
				a.user = ids[0]
			}
		case StrategyRoundRobin, StrategyLeastLoaded:
			if len(a.Users) == 0 || len(a.Users) > 200 {
				return bad(".users", "name between 1 and 200 users")
			}
			a.users = users(".users", a.Users...)
			if a.Strategy == StrategyLeastLoaded && a.Open != "" && check {
				if err := e.recs.CheckQuery(access.System(), r.Entity, a.Open, ""); err != nil {
					errs = append(errs, asFieldError(path+".open", err))
				}
			}
			if a.Strategy == StrategyRoundRobin && a.Open != "" {
				return bad(".open", "open is for least_loaded")
			}
		case StrategyByRule:
			if len(a.Rules) == 0 || len(a.Rules) > 50 {
				return bad(".rules", "name between 1 and 50 rules")
			}
			for i, br := range a.Rules {
				p := c.compile(fmt.Sprintf("%s.rules[%d].when", path, i), br.When, nil)
				ids := users(fmt.Sprintf(".rules[%d].user", i), br.User)
				if p != nil && len(ids) == 1 {
					a.byRule = append(a.byRule, ownerRule{when: p, user: ids[0]})
				}
			}
			if a.Default != "" {
				if ids := users(".default", a.Default); len(ids) == 1 {
					a.def = ids[0]
				}
			}
		default:
			return bad(".strategy", "strategy must be fixed, round_robin, least_loaded or by_rule")
		}
	case ActionNotify:
		if a.To.empty() && a.Robot == "" {
			return bad(".to", "name recipients (to) or a robot")
		}
		if strings.TrimSpace(a.Title) == "" {
			return ferrs(path+".title", "required")
		}
		a.title = c.compileTemplate(path+".title", a.Title)
		if a.Body != "" {
			a.body = c.compileTemplate(path+".body", a.Body)
		}
		if a.To != nil {
			if len(a.To.Users) > 0 {
				a.toUsers = users(".to.users", a.To.Users...)
			}
			if fes := e.checkRoles(ctx, path+".to.roles", a.To.Roles, check); len(fes) > 0 {
				errs = append(errs, fes...)
			}
			for _, n := range a.To.Fields {
				if n == "owner" || n == "created_by" {
					continue
				}
				if f := r.ent.Field(n); f == nil || f.Type != "user" {
					return bad(".to.fields", n+" is not a user field of "+r.ent.Name)
				}
			}
			if (a.To.Owner || a.To.OwnerManager || len(a.To.Fields) > 0) && !r.hasRecord() {
				return ferrs(path+".to", "rule_record_required", "action", a.Type)
			}
		}
		for _, ch := range a.Channels {
			if ch != notify.ChannelInApp && ch != notify.ChannelEmail {
				return bad(".channels", "channels are in_app and email")
			}
		}
		if len(a.Channels) > 0 && a.To.empty() {
			return bad(".channels", "channels are for recipients (to)")
		}
		if a.Robot != "" {
			id, ok := meta.ParseID(a.Robot)
			if !ok {
				return bad(".robot", "the robot is the id of a robot channel")
			}
			a.robot = id
		}
	case ActionCallWebhook:
		if netguard.ValidURL(a.URL) != nil {
			return ferrs(path+".url", "rule_url_invalid")
		}
		if check {
			// The address policy of outbound calls: checked again at dial time.
			var re *netguard.RefusedError
			if err := e.guard.CheckURL(ctx, a.URL); errors.As(err, &re) {
				return ferrs(path+".url", netguard.CodeAddressRefused, "host", re.Host, "reason", re.Reason)
			} else if err != nil {
				return ferrs(path+".url", "rule_internal_error")
			}
		}
		if len(a.Secret) < 16 || len(a.Secret) > 200 {
			return ferrs(path+".secret", "rule_secret_invalid", "min", 16)
		}
		for _, n := range a.Fields {
			if !hasField(r.ent, n) {
				return ferrs(path+".fields", "rule_field_unknown", "entity", r.ent.Name, "field", n)
			}
		}
	case ActionStartFlow:
		id, ok := meta.ParseID(a.Definition)
		if !ok {
			return bad(".definition", "the definition is the id of a flow definition")
		}
		a.definition = id
	case ActionCreateTask:
		if _, ok := reg.Get(TaskEntity); !ok {
			return ferrs(path+".type", "rule_entity_unknown", "entity", TaskEntity)
		}
		if strings.TrimSpace(a.Title) == "" {
			return ferrs(path+".title", "required")
		}
		a.title = c.compileTemplate(path+".title", a.Title)
		if a.Description != "" {
			a.desc = c.compileTemplate(path+".description", a.Description)
		}
		if a.Due != "" {
			a.due = c.compile(path+".due", a.Due, nil)
		}
		if a.Remind != "" {
			a.remind = c.compile(path+".remind", a.Remind, nil)
		}
		switch {
		case a.Assignee == "" || a.Assignee == "owner" || a.Assignee == "owner_manager":
			if !r.hasRecord() {
				return bad(".assignee", "without a record, name a user id")
			}
		case a.Assignee == "created_by" || r.ent.Field(a.Assignee) != nil:
			if f := r.ent.Field(a.Assignee); f != nil && f.Type != "user" {
				return bad(".assignee", a.Assignee+" is not a user field of "+r.ent.Name)
			}
			if !r.hasRecord() {
				return bad(".assignee", "without a record, name a user id")
			}
		default:
			if ids := users(".assignee", a.Assignee); len(ids) == 1 {
				a.assigneeUser = ids[0]
			}
		}
	}
	return errs
}

// checkMapping validates a mapping's fields against the entity te and
// compiles its expressions (target, when not nil, is the entity of the
// "target" variable).
func (e *Engine) checkMapping(c *compiler, a *compiled, path string, te, target *meta.Entity) []apperr.FieldError {
	if len(a.Values)+len(a.Expressions) == 0 {
		return ferrs(path+".values", "rule_action_invalid", "reason", "map at least one field")
	}
	types := e.recs.Registry().Types()
	var errs []apperr.FieldError
	for _, name := range sortedKeys(a.Values) {
		fpath := path + ".values." + name
		f, fe := writable(te, name, fpath)
		if fe != nil {
			errs = append(errs, *fe)
			continue
		}
		v := a.Values[name]
		if f != nil && v != nil {
			if _, err := types[f.Type].Normalize(f, v); err != nil {
				errs = append(errs, valueError(fpath, err))
				continue
			}
		} else if f == nil && v != nil { // owner
			if _, ok := meta.ParseID(v); !ok {
				errs = append(errs, apperr.Field(fpath, "invalid_id"))
				continue
			}
		}
		a.mapping = append(a.mapping, mapped{field: name, f: f, value: v})
	}
	for _, name := range sortedKeys(a.Expressions) {
		fpath := path + ".expressions." + name
		if _, dup := a.Values[name]; dup {
			errs = append(errs, apperr.Field(fpath, "rule_action_invalid", "reason", name+" is both a value and an expression"))
			continue
		}
		f, fe := writable(te, name, fpath)
		if fe != nil {
			errs = append(errs, *fe)
			continue
		}
		if p := c.compile(fpath, a.Expressions[name], target); p != nil {
			a.mapping = append(a.mapping, mapped{field: name, f: f, prog: p})
		}
	}
	return errs
}

// writable returns the field a mapping may set (nil for owner), or a field
// error: computed fields, sub-tables and unknown fields are refused.
func writable(te *meta.Entity, name, path string) (*meta.Field, *apperr.FieldError) {
	if name == "owner" {
		return nil, nil
	}
	f := te.Field(name)
	if f == nil {
		fe := apperr.Field(path, "rule_field_unknown", "entity", te.Name, "field", name)
		return nil, &fe
	}
	if f.IsComputed() || f.Type == "autonumber" || f.Type == "subtable" {
		fe := apperr.Field(path, "rule_field_not_writable", "field", name)
		return nil, &fe
	}
	return f, nil
}

// valueError turns a field type's normalisation error into a field error.
func valueError(path string, err error) apperr.FieldError {
	var ve *meta.ValueError
	if errors.As(err, &ve) {
		return apperr.Field(path, ve.Code, ve.Args...)
	}
	return apperr.Field(path, "rule_invalid_value")
}

// asFieldError places an apperr (such as a bad filter) at a field.
func asFieldError(path string, err error) apperr.FieldError {
	if ae, ok := apperr.As(err); ok {
		return apperr.FieldError{Field: path, Code: ae.Code, Args: ae.Args}
	}
	return apperr.Field(path, "rule_invalid_value")
}

// checkUsers parses user ids and, with check, verifies they are active
// users.
func (e *Engine) checkUsers(ctx context.Context, path string, ids []string, check bool) ([]int64, []apperr.FieldError) {
	out := make([]int64, 0, len(ids))
	for _, s := range ids {
		id, ok := meta.ParseID(s)
		if !ok {
			return nil, ferrs(path, "rule_user_unknown", "user", s)
		}
		out = append(out, id)
	}
	if len(out) == 0 {
		return nil, ferrs(path, "required")
	}
	if !check {
		return out, nil
	}
	active, err := e.activeUsers(ctx, out)
	if err != nil {
		return nil, ferrs(path, "rule_user_unknown", "user", ids[0])
	}
	for i, id := range out {
		if !active[id] {
			return nil, ferrs(path, "rule_user_unknown", "user", ids[i])
		}
	}
	return out, nil
}

// activeUsers returns which of ids are active users.
func (e *Engine) activeUsers(ctx context.Context, ids []int64) (map[int64]bool, error) {
	out := map[int64]bool{}
	if len(ids) == 0 {
		return out, nil
	}
	res, err := e.recs.List(ctx, access.System(), "users", records.ListOptions{
		Filter: "active == true && id in [" + joinIDs(ids) + "]", PerPage: records.MaxPerPage, Fields: []string{"login"}, Count: records.CountNone})
	if err != nil {
		return nil, err
	}
	for _, u := range res.Items {
		out[u.ID()] = true
	}
	return out, nil
}

// checkRoles verifies role names exist.
func (e *Engine) checkRoles(ctx context.Context, path string, names []string, check bool) []apperr.FieldError {
	if len(names) == 0 || !check {
		return nil
	}
	for _, n := range names {
		var ids []int64
		res, err := e.recs.List(ctx, access.System(), "roles", records.ListOptions{Filter: "name == " + strconv.Quote(n),
			PerPage: 1, Count: records.CountNone})
		if err == nil {
			for _, x := range res.Items {
				ids = append(ids, x.ID())
			}
		}
		if len(ids) == 0 {
			return ferrs(path, "rule_role_unknown", "role", n)
		}
	}
	return nil
}

// joinIDs writes ids as a filter list body.
func joinIDs(ids []int64) string {
	var b strings.Builder
	for i, id := range ids {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.FormatInt(id, 10))
	}
	return b.String()
}
