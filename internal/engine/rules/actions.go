package rules

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"

	"github.com/tenon-crm/tenon/internal/platform/access"
	"github.com/tenon-crm/tenon/internal/platform/apperr"
	"github.com/tenon-crm/tenon/internal/platform/jobs"
	"github.com/tenon-crm/tenon/internal/platform/meta"
	"github.com/tenon-crm/tenon/internal/platform/notify"
	"github.com/tenon-crm/tenon/internal/platform/records"
)

// runCtx is one run of a rule's actions.
type runCtx struct {
	e     *Engine
	r     *Rule
	sc    *scope
	p     *runPayload
	job   int64 // the rules.run job (0 in test mode)
	dry   bool  // test mode: the transaction is rolled back afterwards
	who   *access.Principal
	actor *Actor
}

// recordID is the id of the run's record (0 when it has none).
func (run *runCtx) recordID() int64 { return run.sc.rec.ID() }

// do runs one action.
func (run *runCtx) do(ctx context.Context, a *compiled) (actionResult, error) {
	res := actionResult{Index: a.index, Type: a.Type, Status: "done"}
	var detail map[string]any
	var err error
	switch a.Type {
	case ActionSetFields:
		detail, err = run.setFields(ctx, a)
	case ActionCreateRecord:
		detail, err = run.createRecord(ctx, a)
	case ActionUpdateLinked:
		detail, err = run.updateLinked(ctx, a)
	case ActionAssignOwner:
		detail, err = run.assignOwner(ctx, a)
	case ActionNotify:
		detail, err = run.notify(ctx, a)
	case ActionCallWebhook:
		detail, err = run.callWebhook(ctx, a)
		res.Status = "queued"
	case ActionStartFlow:
		detail, err = run.startFlow(ctx, a)
	case ActionCreateTask:
		detail, err = run.createTask(ctx, a)
	}
	if s, ok := detail["status"].(string); ok {
		res.Status = s
		delete(detail, "status")
	}
	res.Detail = detail
	return res, err
}

// mappingInput evaluates a mapping into record input: constants as they
// are, expressions converted to the input form of their field. target is
// the record an update_linked mapping writes.
func (run *runCtx) mappingInput(a *compiled, target map[string]any) (map[string]any, error) {
	input := make(map[string]any, len(a.mapping))
	for _, m := range a.mapping {
		if m.prog == nil {
			input[m.field] = m.value
			continue
		}
		v, err := run.sc.eval(m.prog, target)
		if err != nil {
			return nil, err
		}
		input[m.field] = records.InputValue(m.f, v)
	}
	return input, nil
}

// setFields writes the mapping to the run's record; later actions see the
// new values.
func (run *runCtx) setFields(ctx context.Context, a *compiled) (map[string]any, error) {
	input, err := run.mappingInput(a, nil)
	if err != nil {
		return nil, err
	}
	rec, err := run.e.recs.Update(ctx, run.who, run.r.Entity, run.recordID(), input, 0)
	if err != nil {
		return nil, err
	}
	run.sc.rec, run.sc.fetched = rec, nil
	return map[string]any{"record": itoa64(rec.ID()), "values": input}, nil
}

// createRecord creates a record of the action's entity from the mapping.
// Its owner, unless mapped, is the run's record's owner.
func (run *runCtx) createRecord(ctx context.Context, a *compiled) (map[string]any, error) {
	input, err := run.mappingInput(a, nil)
	if err != nil {
		return nil, err
	}
	if _, ok := input["owner"]; !ok {
		if o, ok := run.sc.rec["owner"].(int64); ok {
			input["owner"] = itoa64(o)
		}
	}
	rec, err := run.e.recs.Create(ctx, run.who, a.Entity, input)
	if err != nil {
		return nil, err
	}
	return map[string]any{"entity": a.Entity, "record": itoa64(rec.ID()), "values": input}, nil
}

// updateLinked writes the mapping to each record linked through Link, or
// linking here through Entity.Field (at most Limits.MaxLinked).
func (run *runCtx) updateLinked(ctx context.Context, a *compiled) (map[string]any, error) {
	e := run.e
	var ids []int64
	if !a.reverse {
		switch v := run.sc.rec[a.Link].(type) {
		case int64:
			ids = []int64{v}
		case []int64:
			ids = v
		}
	} else {
		op := " == "
		if f := a.target.Field(a.Field); f != nil && f.Type == "multi_link" {
			op = " contains "
		}
		res, err := e.recs.List(ctx, access.System(), a.Entity, records.ListOptions{Filter: a.Field + op + itoa64(run.recordID()),
			Sort: "id", PerPage: min(e.limits.MaxLinked+1, records.MaxPerPage), Count: records.CountNone})
		if err != nil {
			return nil, err
		}
		for _, x := range res.Items {
			ids = append(ids, x.ID())
		}
	}
	if len(ids) > e.limits.MaxLinked || len(ids) >= records.MaxPerPage && a.reverse {
		return nil, apperr.New(apperr.ErrUnprocessable, "rule_too_many_linked", "max", e.limits.MaxLinked)
	}
	usesTarget := false
	for _, m := range a.mapping {
		if m.prog != nil && containsStr(m.prog.refs, "target") {
			usesTarget = true
		}
	}
	done := make([]string, 0, len(ids))
	for _, id := range ids {
		var target map[string]any
		if usesTarget {
			rec, err := e.recs.Get(ctx, access.System(), a.target.Name, id, records.GetOptions{})
			if err != nil {
				return nil, err
			}
			target = recordVars(a.target, rec)
		}
		input, err := run.mappingInput(a, target)
		if err != nil {
			return nil, err
		}
		if _, err := e.recs.Update(ctx, run.who, a.target.Name, id, input, 0); err != nil {
			return nil, err
		}
		done = append(done, itoa64(id))
	}
	return map[string]any{"entity": a.target.Name, "records": done}, nil
}

// notify sends the rendered title and body to the recipients (in-app and,
// by their preferences, e-mail) and/or a group robot.
func (run *runCtx) notify(ctx context.Context, a *compiled) (map[string]any, error) {
	e := run.e
	if e.notifier == nil {
		return nil, apperr.New(apperr.ErrUnprocessable, "rule_no_notifier")
	}
	title, err := run.sc.render(a.title)
	if err != nil {
		return nil, err
	}
	body, err := run.sc.render(a.body)
	if err != nil {
		return nil, err
	}
	detail := map[string]any{"title": title, "body": body}
	if !a.To.empty() {
		to, err := run.recipients(ctx, a)
		if err != nil {
			return nil, err
		}
		ids := make([]string, len(to))
		for i, id := range to {
			ids[i] = itoa64(id)
		}
		detail["to"] = ids
		if len(to) > 0 {
			var actor int64
			if run.actor != nil {
				actor = run.actor.ID
			}
			m := notify.Message{Kind: "rule", To: to, Title: title, Body: body, Entity: run.r.Entity, RecordID: run.recordID(),
				Actor: actor, Channels: a.Channels}
			if m.RecordID == 0 {
				m.Entity = ""
			}
			if err := e.notifier.Send(ctx, m); err != nil {
				return nil, err
			}
		}
	}
	if a.robot != 0 {
		text := body
		if text == "" {
			text = title
		}
		if err := e.notifier.SendRobot(ctx, a.robot, notify.RobotMessage{Title: title, Text: text, Markdown: a.Markdown}); err != nil {
			return nil, err
		}
		detail["robot"] = itoa64(a.robot)
	}
	return detail, nil
}

// recipients resolves a notify action's recipients, without duplicates,
// in the order they are named.
func (run *runCtx) recipients(ctx context.Context, a *compiled) ([]int64, error) {
	e, rec := run.e, run.sc.rec
	var out []int64
	seen := map[int64]bool{}
	add := func(id int64) {
		if id != 0 && !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	for _, id := range a.toUsers {
		add(id)
	}
	for _, role := range a.To.Roles {
		ids, err := e.roleUsers(ctx, role)
		if err != nil {
			return nil, err
		}
		for _, id := range ids {
			add(id)
		}
	}
	for _, f := range a.To.Fields {
		id, _ := rec[f].(int64)
		add(id)
	}
	owner, _ := rec["owner"].(int64)
	if a.To.Owner {
		add(owner)
	}
	if a.To.OwnerManager && owner != 0 {
		m, err := e.managerOf(ctx, owner)
		if err != nil {
			return nil, err
		}
		add(m)
	}
	return out, nil
}

// roleUsers lists the active users holding a role.
func (e *Engine) roleUsers(ctx context.Context, role string) ([]int64, error) {
	sys := access.System()
	res, err := e.recs.List(ctx, sys, "roles", records.ListOptions{Filter: "name == " + strconv.Quote(role), PerPage: 1, Count: records.CountNone})
	if err != nil || len(res.Items) == 0 {
		return nil, err
	}
	var out []int64
	for page := 1; ; page++ {
		us, err := e.recs.List(ctx, sys, "users", records.ListOptions{Filter: "active == true && roles contains " + itoa64(res.Items[0].ID()),
			Sort: "id", Page: page, PerPage: records.MaxPerPage, Count: records.CountNone})
		if err != nil {
			return nil, err
		}
		for _, u := range us.Items {
			out = append(out, u.ID())
		}
		if len(us.Items) < records.MaxPerPage {
			return out, nil
		}
	}
}

// managerOf is a user's manager (0 when none).
func (e *Engine) managerOf(ctx context.Context, user int64) (int64, error) {
	u, err := e.recs.Get(ctx, access.System(), "users", user, records.GetOptions{})
	if err != nil {
		if ae, ok := apperr.As(err); ok && ae.Kind == apperr.ErrNotFound {
			return 0, nil
		}
		return 0, err
	}
	m, _ := u["manager"].(int64)
	return m, nil
}

// callWebhook queues the signed call (a rules.webhook job, sent after the
// run commits, retried with back-off).
func (run *runCtx) callWebhook(ctx context.Context, a *compiled) (map[string]any, error) {
	e := run.e
	var rec records.Record
	if run.recordID() != 0 {
		rec = e.recs.Public(principal(), run.r.Entity, run.sc.rec, a.Fields)
	}
	body := map[string]any{
		"rule":        map[string]any{"id": itoa64(run.r.ID), "name": run.r.Name},
		"event":       run.p.Trigger,
		"entity":      run.r.Entity,
		"record":      rec,
		"occurred_at": e.now().In(meta.Shanghai).Format("2006-01-02T15:04:05Z07:00"),
	}
	if len(run.p.Payload) > 0 {
		body["payload"] = json.RawMessage(run.p.Payload)
	}
	raw, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	j, err := e.jobs.Enqueue(ctx, KindWebhook, webhookCall{Rule: run.r.ID, RunJob: run.job, Action: a.index, URL: a.URL,
		Secret: a.Secret, Body: raw}, jobs.EnqueueOptions{})
	if err != nil {
		return nil, err
	}
	detail := map[string]any{"url": a.URL}
	if run.dry {
		detail["body"] = json.RawMessage(raw)
	} else {
		detail["job"] = itoa64(j.ID)
	}
	return detail, nil
}

// startFlow starts an approval flow on the run's record.
func (run *runCtx) startFlow(ctx context.Context, a *compiled) (map[string]any, error) {
	if run.e.flows == nil {
		return nil, apperr.New(apperr.ErrUnprocessable, "rule_no_flows")
	}
	id, err := run.e.flows.Start(ctx, run.who, run.r.Entity, run.recordID(), a.definition)
	if err != nil {
		return nil, err
	}
	return map[string]any{"definition": itoa64(a.definition), "instance": itoa64(id)}, nil
}

// createTask creates a task about the run's record.
func (run *runCtx) createTask(ctx context.Context, a *compiled) (map[string]any, error) {
	e := run.e
	te, ok := e.recs.Registry().Get(TaskEntity)
	if !ok {
		return nil, apperr.New(apperr.ErrUnprocessable, "rule_entity_unknown", "entity", TaskEntity)
	}
	title, err := run.sc.render(a.title)
	if err != nil {
		return nil, err
	}
	input := map[string]any{"title": strings.TrimSpace(title)}
	if a.desc != nil {
		d, err := run.sc.render(a.desc)
		if err != nil {
			return nil, err
		}
		input["description"] = d
	}
	for key, p := range map[string]*program{"due_at": a.due, "remind_at": a.remind} {
		if p == nil {
			continue
		}
		v, err := run.sc.eval(p, nil)
		if err != nil {
			return nil, err
		}
		input[key] = records.InputValue(te.Field(key), v)
	}
	if a.Priority != "" {
		input["priority"] = a.Priority
	}
	if id := run.recordID(); id != 0 {
		input["related_entity"] = run.r.Entity
		input["related_id"] = records.InputValue(te.Field("related_id"), id)
	}
	owner, err := run.assignee(ctx, a)
	if err != nil {
		return nil, err
	}
	if owner != 0 {
		input["owner"] = itoa64(owner)
	}
	rec, err := e.recs.Create(ctx, run.who, TaskEntity, input)
	if err != nil {
		return nil, err
	}
	out := map[string]any{"task": itoa64(rec.ID()), "title": input["title"]}
	if owner != 0 {
		out["owner"] = itoa64(owner)
	}
	return out, nil
}

// assignee resolves a create_task action's assignee.
func (run *runCtx) assignee(ctx context.Context, a *compiled) (int64, error) {
	rec := run.sc.rec
	switch a.Assignee {
	case "", "owner":
		o, _ := rec["owner"].(int64)
		return o, nil
	case "owner_manager":
		o, _ := rec["owner"].(int64)
		if o == 0 {
			return 0, nil
		}
		return run.e.managerOf(ctx, o)
	}
	if a.assigneeUser != 0 {
		return a.assigneeUser, nil
	}
	id, _ := rec[a.Assignee].(int64)
	return id, nil
}
