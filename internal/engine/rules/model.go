package rules

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/tenon-crm/tenon/internal/platform/apperr"
)

// Trigger types (the "type" of a rule's trigger).
const (
	TriggerCreated       = "created"        // a record is created
	TriggerUpdated       = "updated"        // a record is changed
	TriggerFieldChanged  = "field_changed"  // one of Fields changed
	TriggerStatusEntered = "status_entered" // Field took Value (on create or update)
	TriggerDeleted       = "deleted"        // a record went to the recycle bin
	TriggerSchedule      = "schedule"       // Cron fired: every record matching the condition
	TriggerDate          = "date"           // today is Field's date + OffsetDays
	TriggerWebhook       = "webhook"        // POST /api/v1/rules/{id}/hook
)

// triggerTypes lists the trigger types in documentation order.
var triggerTypes = []string{TriggerCreated, TriggerUpdated, TriggerFieldChanged, TriggerStatusEntered,
	TriggerDeleted, TriggerSchedule, TriggerDate, TriggerWebhook}

// eventTrigger reports whether a trigger type fires on a record write (as
// opposed to a schedule, a date scan or an inbound call).
func eventTrigger(t string) bool {
	switch t {
	case TriggerCreated, TriggerUpdated, TriggerFieldChanged, TriggerStatusEntered, TriggerDeleted:
		return true
	}
	return false
}

// Trigger is the JSON of a rule's trigger field. Which keys apply depends
// on Type; the others must be absent.
type Trigger struct {
	Type string `json:"type"`
	// Fields (field_changed): the rule fires when any of them changes.
	Fields []string `json:"fields,omitempty"`
	// Field and Value (status_entered): the field (a select, text, boolean
	// or integer) and the value it enters. Field (date): a date or
	// datetime field.
	Field string `json:"field,omitempty"`
	Value any    `json:"value,omitempty"`
	// Cron and Timezone (schedule): when the scan runs (five-field cron or
	// @daily-style descriptor; Asia/Shanghai unless named).
	Cron     string `json:"cron,omitempty"`
	Timezone string `json:"timezone,omitempty"`
	// OffsetDays (date): the rule fires on the day Field's date plus
	// OffsetDays falls on: -30 is "30 days before".
	OffsetDays int `json:"offset_days,omitempty"`
	// Limit (schedule, date) lowers the number of records one run may act
	// on (Limits.ScanMatches at most).
	Limit int `json:"limit,omitempty"`
	// MatchField and MatchKey (webhook): the record of the rule's entity
	// whose MatchField equals the payload's MatchKey is the record the
	// actions work on. Without them an inbound call has no record.
	MatchField string `json:"match_field,omitempty"`
	MatchKey   string `json:"match_key,omitempty"`
}

// triggerKeys are the keys each trigger type accepts.
var triggerKeys = map[string][]string{
	TriggerCreated:       {},
	TriggerUpdated:       {},
	TriggerFieldChanged:  {"fields"},
	TriggerStatusEntered: {"field", "value"},
	TriggerDeleted:       {},
	TriggerSchedule:      {"cron", "timezone", "limit"},
	TriggerDate:          {"field", "offset_days", "limit"},
	TriggerWebhook:       {"match_field", "match_key"},
}

// Action types.
const (
	ActionSetFields    = "set_fields"    // set fields of the record
	ActionCreateRecord = "create_record" // create a record of Entity from a mapping
	ActionUpdateLinked = "update_linked" // update the records linked through Link (or linking here)
	ActionAssignOwner  = "assign_owner"  // fixed, round_robin, least_loaded or by_rule
	ActionNotify       = "notify"        // in-app/e-mail to users; a group robot
	ActionCallWebhook  = "call_webhook"  // signed HTTP POST
	ActionStartFlow    = "start_flow"    // start an approval flow on the record
	ActionCreateTask   = "create_task"   // a to-do about the record
)

// actionKeys are the keys each action type accepts (besides "type").
var actionKeys = map[string][]string{
	ActionSetFields:    {"values", "expressions"},
	ActionCreateRecord: {"entity", "values", "expressions"},
	ActionUpdateLinked: {"link", "entity", "field", "values", "expressions"},
	ActionAssignOwner:  {"strategy", "field", "user", "users", "open", "rules", "default"},
	ActionNotify:       {"to", "channels", "robot", "markdown", "title", "body"},
	ActionCallWebhook:  {"url", "secret", "fields"},
	ActionStartFlow:    {"definition"},
	ActionCreateTask:   {"title", "description", "due", "remind", "priority", "assignee"},
}

// recordActions are the actions that work on the rule's record, so the
// trigger must provide one.
var recordActions = []string{ActionSetFields, ActionUpdateLinked, ActionAssignOwner, ActionStartFlow}

// Owner assignment strategies.
const (
	StrategyFixed       = "fixed"        // User
	StrategyRoundRobin  = "round_robin"  // Users in turn
	StrategyLeastLoaded = "least_loaded" // the one of Users with the fewest open records
	StrategyByRule      = "by_rule"      // the User of the first of Rules whose When holds, else Default
)

// Action is one element of a rule's actions list. Which keys apply
// depends on Type (see the package documentation); the others must be
// absent.
type Action struct {
	Type string `json:"type"`

	// set_fields, create_record, update_linked, as a mapping: Values are
	// constants (in the API's input form), Expressions compute a value
	// from the record (field ← expression). A field may be in one only.
	Values      map[string]any    `json:"values,omitempty"`
	Expressions map[string]string `json:"expressions,omitempty"`
	// Entity: create_record's entity; update_linked's linking entity when
	// the records to update link here through Field (for example the
	// contacts of an account).
	Entity string `json:"entity,omitempty"`
	// Link (update_linked): a link or multi_link field of the rule's
	// entity: the records it points to are updated.
	Link string `json:"link,omitempty"`
	// Field: update_linked's link field of Entity; assign_owner's user
	// field (default owner).
	Field string `json:"field,omitempty"`

	// assign_owner.
	Strategy string      `json:"strategy,omitempty"`
	User     string      `json:"user,omitempty"`
	Users    []string    `json:"users,omitempty"`
	Open     string      `json:"open,omitempty"` // least_loaded: filter of the records that count as open
	Rules    []OwnerRule `json:"rules,omitempty"`
	Default  string      `json:"default,omitempty"`

	// notify: To (in-app and e-mail, by each recipient's preferences;
	// Channels narrows it to "in_app" or "email") and/or Robot (a group
	// robot channel's id; Markdown sends the body as Markdown). Title and
	// Body are templates.
	To       *Recipients `json:"to,omitempty"`
	Channels []string    `json:"channels,omitempty"`
	Robot    string      `json:"robot,omitempty"`
	Markdown bool        `json:"markdown,omitempty"`
	Title    string      `json:"title,omitempty"`
	Body     string      `json:"body,omitempty"`

	// call_webhook: URL (http or https), Secret (HMAC-SHA256 key), Fields
	// (the record fields sent; all when empty).
	URL    string   `json:"url,omitempty"`
	Secret string   `json:"secret,omitempty"`
	Fields []string `json:"fields,omitempty"`

	// start_flow: the flow definition's id.
	Definition string `json:"definition,omitempty"`

	// create_task: Title and Description are templates, Due and Remind
	// expressions giving a datetime (or date), Priority a constant,
	// Assignee who owns the task: "owner" (the record's owner, the
	// default), "owner_manager", the name of a user field, or a user id.
	Description string `json:"description,omitempty"`
	Due         string `json:"due,omitempty"`
	Remind      string `json:"remind,omitempty"`
	Priority    string `json:"priority,omitempty"`
	Assignee    string `json:"assignee,omitempty"`
}

// OwnerRule is one line of a by_rule assignment: when When holds, User.
type OwnerRule struct {
	When string `json:"when"`
	User string `json:"user"`
}

// Recipients name the users a notify action reaches.
type Recipients struct {
	Users        []string `json:"users,omitempty"`         // user ids
	Roles        []string `json:"roles,omitempty"`         // role names: their active users
	Fields       []string `json:"fields,omitempty"`        // user fields of the record (owner, created_by, custom)
	Owner        bool     `json:"owner,omitempty"`         // the record's owner
	OwnerManager bool     `json:"owner_manager,omitempty"` // the owner's manager (users.manager)
}

// empty reports whether no recipient is named.
func (r *Recipients) empty() bool {
	return r == nil || len(r.Users)+len(r.Roles)+len(r.Fields) == 0 && !r.Owner && !r.OwnerManager
}

// decodeStrict decodes raw into v refusing unknown keys, with numbers kept
// as json.Number (exact decimals and ids).
func decodeStrict(raw []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return fmt.Errorf("unexpected data after the JSON value")
	}
	return nil
}

// checkKeys refuses keys of obj that are not "type" or in allowed.
func checkKeys(obj map[string]json.RawMessage, allowed []string) []string {
	var bad []string
	for k := range obj {
		if k != "type" && !slices.Contains(allowed, k) {
			bad = append(bad, k)
		}
	}
	sort.Strings(bad)
	return bad
}

// parseTrigger decodes a trigger, refusing keys its type does not use.
func parseTrigger(raw []byte) (Trigger, []apperr.FieldError) {
	var obj map[string]json.RawMessage
	if err := decodeStrict(raw, &obj); err != nil || obj == nil {
		return Trigger{}, ferrs("trigger", "rule_trigger_invalid", "reason", "an object with a type is expected")
	}
	var t Trigger
	if err := decodeStrict(raw, &t); err != nil {
		return Trigger{}, ferrs("trigger", "rule_trigger_invalid", "reason", jsonReason(err))
	}
	keys, ok := triggerKeys[t.Type]
	if !ok {
		return Trigger{}, ferrs("trigger.type", "rule_trigger_invalid", "reason", "type must be one of "+strings.Join(triggerTypes, ", "))
	}
	if bad := checkKeys(obj, keys); len(bad) > 0 {
		return Trigger{}, ferrs("trigger."+bad[0], "rule_key_unused", "key", bad[0], "type", t.Type)
	}
	return t, nil
}

// parseActions decodes the actions list, refusing keys an action's type
// does not use.
func parseActions(raw []byte, maxActions int) ([]Action, []apperr.FieldError) {
	var list []json.RawMessage
	if err := decodeStrict(raw, &list); err != nil {
		return nil, ferrs("actions", "rule_action_invalid", "reason", "a list of actions is expected")
	}
	if len(list) == 0 {
		return nil, ferrs("actions", "rule_action_invalid", "reason", "at least one action is needed")
	}
	if len(list) > maxActions {
		return nil, ferrs("actions", "rule_too_many_actions", "max", maxActions)
	}
	out := make([]Action, len(list))
	var errs []apperr.FieldError
	for i, item := range list {
		path := fmt.Sprintf("actions[%d]", i)
		var obj map[string]json.RawMessage
		if err := decodeStrict(item, &obj); err != nil || obj == nil {
			errs = append(errs, apperr.Field(path, "rule_action_invalid", "reason", "an object with a type is expected"))
			continue
		}
		var a Action
		if err := decodeStrict(item, &a); err != nil {
			errs = append(errs, apperr.Field(path, "rule_action_invalid", "reason", jsonReason(err)))
			continue
		}
		keys, ok := actionKeys[a.Type]
		if !ok {
			types := make([]string, 0, len(actionKeys))
			for k := range actionKeys {
				types = append(types, k)
			}
			sort.Strings(types)
			errs = append(errs, apperr.Field(path+".type", "rule_action_invalid", "reason", "type must be one of "+strings.Join(types, ", ")))
			continue
		}
		if bad := checkKeys(obj, keys); len(bad) > 0 {
			errs = append(errs, apperr.Field(path+"."+bad[0], "rule_key_unused", "key", bad[0], "type", a.Type))
			continue
		}
		out[i] = a
	}
	return out, errs
}

// jsonReason is a decoding error without Go type names.
func jsonReason(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		if te.Field != "" {
			return "wrong type for " + te.Field
		}
		return "wrong type"
	}
	msg := err.Error()
	if strings.HasPrefix(msg, "json: unknown field ") {
		return "unknown key " + strings.TrimPrefix(msg, "json: unknown field ")
	}
	return "malformed JSON"
}

// ferrs is one field error as a list.
func ferrs(field, code string, kv ...any) []apperr.FieldError {
	return []apperr.FieldError{apperr.Field(field, code, kv...)}
}
