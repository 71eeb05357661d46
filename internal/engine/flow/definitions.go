package flow

import (
	"context"
	"encoding/json"
	"strconv"

	"github.com/tenon-crm/tenon/internal/platform/access"
	"github.com/tenon-crm/tenon/internal/platform/apperr"
	"github.com/tenon-crm/tenon/internal/platform/expr"
	"github.com/tenon-crm/tenon/internal/platform/records"
)

// lockHook refuses to change or delete a record while it is in a running
// flow (409 flow_record_locked, naming the flow), except through the flow
// itself. While the flow is returned for changes, its submitter may edit
// the record (and nobody else may); deleting waits for the flow to end or
// be withdrawn. Entities without flows pay one map lookup.
func (e *Engine) lockHook(ctx context.Context, c *records.Change) error {
	if c.Op != records.OpUpdate && c.Op != records.OpDelete {
		return nil
	}
	if ok, err := e.hasFlows(ctx, c.Entity.Name); err != nil || !ok {
		return err
	}
	if throughFlow(ctx) {
		return nil
	}
	in, err := e.st.openInstance(ctx, c.Entity.Name, c.Old.ID(), false)
	if err != nil || in == nil {
		return err
	}
	if in.Status == StatusReturned {
		if c.Op == records.OpUpdate && c.P.UserID != 0 && c.P.UserID == in.Submitter {
			return nil
		}
		return apperr.New(apperr.ErrConflict, "flow_record_returned", "flow", in.Name, "instance", in.ID)
	}
	return apperr.New(apperr.ErrConflict, "flow_record_locked", "flow", in.Name, "instance", in.ID)
}

// triggerHook starts the flows triggered by a create or an update, in the
// same transaction: the published flows of the entity with that trigger
// whose condition holds for the record as written (the first, in priority
// order). A record already in a flow is left alone, as are the flow's own
// writes.
func (e *Engine) triggerHook(ctx context.Context, c *records.Change) error {
	var trigger string
	switch c.Op {
	case records.OpCreate:
		trigger = TriggerCreate
	case records.OpUpdate:
		trigger = TriggerUpdate
	default:
		return nil
	}
	if c.Entity.Name == DefinitionEntity || throughFlow(ctx) {
		return nil
	}
	if ok, err := e.hasFlows(ctx, c.Entity.Name); err != nil || !ok {
		return err
	}
	_, _, err := e.start(ctx, c.P, c.Entity.Name, c.New.ID(), 0, trigger, true)
	return err
}

// beforeDefinition checks a definition when it is saved: a known entity
// (fixed once published), a trigger condition that compiles, a graph that
// decodes (drafts may be incomplete: the full check is validate and
// publish), and status changes: publishing goes through publish; a
// published flow may be disabled and enabled again.
func (e *Engine) beforeDefinition(ctx context.Context, c *records.Change) error {
	if c.New == nil {
		return nil
	}
	var errs []apperr.FieldError
	n, old := c.New, c.Old
	entity, _ := n["entity"].(string)
	ent, ok := e.reg.Get(entity)
	if !ok || entity == DefinitionEntity {
		errs = append(errs, apperr.Field("entity", "flow_unknown_entity", "entity", entity))
	}
	oldPV, newPV := int64(0), int64(0)
	if old != nil {
		oldPV, _ = old["published_version"].(int64)
	}
	newPV, _ = n["published_version"].(int64)
	if old != nil && oldPV > 0 && old["entity"] != n["entity"] {
		errs = append(errs, apperr.Field("entity", "flow_entity_fixed"))
	}
	if !isPublishing(ctx) {
		if newPV != oldPV {
			errs = append(errs, apperr.Field("published_version", "read_only"))
		}
		oldStatus := "draft"
		if old != nil {
			oldStatus, _ = old["status"].(string)
		}
		if st, _ := n["status"].(string); st == "published" && oldStatus != "published" && oldPV == 0 {
			errs = append(errs, apperr.Field("status", "flow_publish_required"))
		}
	}
	if cond, _ := n["condition"].(string); cond != "" && ok {
		if _, err := expr.CompileProgram(cond, recordVarNames(ent)); err != nil {
			errs = append(errs, apperr.Field("condition", "flow_bad_condition", "reason", reasonOf(err)))
		}
	}
	if raw, ok := n["graph"].(json.RawMessage); ok {
		if _, err := ParseGraph(raw); err != nil {
			errs = append(errs, apperr.Field("graph", "flow_bad_graph", "reason", reasonOf(err)))
		}
	}
	if len(errs) > 0 {
		return apperr.Fields(errs...)
	}
	return nil
}

// check compiles a definition record completely, including the users and
// roles it names, and returns the problems as a 422 (code flow_invalid).
func (e *Engine) check(ctx context.Context, rec records.Record) (*compiled, error) {
	entity, _ := rec["entity"].(string)
	ent, ok := e.reg.Get(entity)
	if !ok || entity == DefinitionEntity {
		ent = nil
	}
	trigger, _ := rec["trigger"].(string)
	cond, _ := rec["condition"].(string)
	raw, _ := rec["graph"].(json.RawMessage)
	c, errs := compileDefinition(e.reg.Types(), definitionInput{Entity: ent, EntityRaw: entity, Trigger: trigger, Condition: cond, Graph: raw})
	if c != nil {
		more, err := e.checkRefs(ctx, c)
		if err != nil {
			return nil, err
		}
		errs = append(errs, more...)
	}
	if len(errs) > 0 {
		return nil, &apperr.Error{Kind: apperr.ErrUnprocessable, Code: "flow_invalid", Fields: errs}
	}
	return c, nil
}

// checkRefs checks what needs the database: listed users exist and are
// active, named roles exist.
func (e *Engine) checkRefs(ctx context.Context, c *compiled) ([]apperr.FieldError, error) {
	var errs []apperr.FieldError
	for i := range c.graph.Nodes {
		n := &c.graph.Nodes[i]
		var specs []Approver
		if a := c.approvals[n.ID]; a != nil {
			specs = a.Approvers
		}
		if cc := c.ccs[n.ID]; cc != nil {
			specs = cc.Recipients
		}
		for _, a := range specs {
			switch a.Kind {
			case ApproverUser:
				for _, id := range a.Users {
					u, err := e.user(ctx, id)
					if err != nil {
						return nil, err
					}
					if !u.active {
						errs = append(errs, apperr.Field(nodePath(n.ID), "flow_unknown_user", "node", n.Label(), "user", id))
					}
				}
			case ApproverRole:
				ok, err := e.roleExists(ctx, a.Role)
				if err != nil {
					return nil, err
				}
				if !ok {
					errs = append(errs, apperr.Field(nodePath(n.ID), "flow_unknown_role", "node", n.Label(), "role", a.Role))
				}
			}
		}
	}
	return errs, nil
}

// Validate checks a definition the caller may read as publishing would:
// nil, or a 422 listing every problem.
func (e *Engine) Validate(ctx context.Context, p *access.Principal, definitionID int64) error {
	rec, err := e.rs.Get(ctx, p, DefinitionEntity, definitionID, records.GetOptions{})
	if err != nil {
		return err
	}
	_, err = e.check(ctx, rec)
	return err
}

// Publish validates a definition and freezes its graph as the next
// version, which new instances then run; running instances keep theirs.
// It needs the right to update the definition. It returns the definition
// after publishing.
func (e *Engine) Publish(ctx context.Context, p *access.Principal, definitionID int64) (records.Record, error) {
	var out records.Record
	err := e.db.WithTx(ctx, func(ctx context.Context) error {
		if err := e.rs.Check(ctx, p, DefinitionEntity, definitionID, access.Update); err != nil {
			return err
		}
		rec, err := e.rs.Get(ctx, p, DefinitionEntity, definitionID, records.GetOptions{})
		if err != nil {
			return err
		}
		if _, err := e.check(ctx, rec); err != nil {
			return err
		}
		var next int
		if err := e.db.QueryRow(ctx, `SELECT COALESCE(MAX(version), 0) + 1 FROM flow_versions WHERE definition_id = ?`, definitionID).Scan(&next); err != nil {
			return err
		}
		entity, _ := rec["entity"].(string)
		name, _ := rec["name"].(string)
		trigger, _ := rec["trigger"].(string)
		cond, _ := rec["condition"].(string)
		raw, _ := rec["graph"].(json.RawMessage)
		v := &versionRow{DefinitionID: definitionID, Version: next, Entity: entity, Name: name, Trigger: trigger, Condition: cond,
			Graph: raw, PublishedAt: e.now().UTC(), PublishedBy: p.UserID}
		if err := e.st.insertVersion(ctx, v); err != nil {
			return err
		}
		// Marked before commit: a spurious mark after a rollback only costs
		// a query per write of the entity.
		e.markFlowed(entity)
		out, err = e.rs.Update(context.WithValue(ctx, publishingKey, true), p, DefinitionEntity, definitionID,
			map[string]any{"status": "published", "published_version": json.Number(strconv.Itoa(next))}, 0)
		return err
	})
	return out, err
}

func (e *Engine) validateAction(ctx context.Context, p *access.Principal, rec records.Record, _ map[string]any) (records.Record, error) {
	if _, err := e.check(ctx, rec); err != nil {
		return nil, err
	}
	return rec, nil
}

func (e *Engine) publishAction(ctx context.Context, p *access.Principal, rec records.Record, _ map[string]any) (records.Record, error) {
	return e.Publish(ctx, p, rec.ID())
}
