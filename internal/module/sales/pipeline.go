package sales

import (
	"context"
	"fmt"
	"strings"

	"github.com/shopspring/decimal"

	"github.com/tenon-crm/tenon/internal/platform/access"
	"github.com/tenon-crm/tenon/internal/platform/apperr"
	"github.com/tenon-crm/tenon/internal/platform/records"
)

// Stage is one stage of a pipeline.
type Stage struct {
	Name        string          `json:"name"`
	NameEn      string          `json:"name_en,omitempty"` // shown in English; empty: Name
	Code        string          `json:"code"`
	Probability decimal.Decimal `json:"probability"`
	Kind        string          `json:"kind"`
	Required    []string        `json:"required_fields"`
	// Reach is the stage's position among the stages that are not lost
	// (1-based): a won stage's is past every open stage; lost stages have 0.
	Reach int `json:"reach"`
}

// Pipeline is a pipeline with its stages in order.
type Pipeline struct {
	ID      int64   `json:"id,string"`
	Name    string  `json:"name"`
	Default bool    `json:"is_default"`
	Stages  []Stage `json:"stages"`
}

// Stage returns the stage with the code.
func (p *Pipeline) Stage(code string) (*Stage, bool) {
	for i := range p.Stages {
		if p.Stages[i].Code == code {
			return &p.Stages[i], true
		}
	}
	return nil, false
}

// firstOf returns the first stage of a kind.
func (p *Pipeline) firstOf(kind string) (*Stage, bool) {
	for i := range p.Stages {
		if p.Stages[i].Kind == kind {
			return &p.Stages[i], true
		}
	}
	return nil, false
}

// OpenStages counts the open stages.
func (p *Pipeline) OpenStages() int {
	n := 0
	for _, s := range p.Stages {
		if s.Kind == StatusOpen {
			n++
		}
	}
	return n
}

// pipelineOf reads a pipeline record's stages.
func pipelineOf(rec records.Record) *Pipeline {
	p := &Pipeline{ID: rec.ID()}
	p.Name, _ = rec["name"].(string)
	p.Default, _ = rec["is_default"].(bool)
	rows, _ := rec["stages"].([]records.Record)
	reach := 0
	for _, r := range rows {
		s := Stage{}
		s.Name, _ = r["name"].(string)
		s.NameEn, _ = r["name_en"].(string)
		s.Code, _ = r["code"].(string)
		s.Probability, _ = r["probability"].(decimal.Decimal)
		s.Kind, _ = r["kind"].(string)
		if s.Kind == "" {
			s.Kind = StatusOpen
		}
		s.Required, _ = r["required_fields"].([]string)
		p.Stages = append(p.Stages, s)
	}
	for i := range p.Stages {
		if p.Stages[i].Kind == StatusOpen {
			reach++
			p.Stages[i].Reach = reach
		}
	}
	for i := range p.Stages {
		if p.Stages[i].Kind == StatusWon {
			p.Stages[i].Reach = reach + 1
		}
	}
	return p
}

// pipeline reads a pipeline as the system (every user may read pipelines).
func (m *Module) pipeline(ctx context.Context, id int64) (*Pipeline, error) {
	rec, err := m.recs.Get(ctx, access.System(), Pipelines, id, records.GetOptions{})
	if err != nil {
		return nil, err
	}
	return pipelineOf(rec), nil
}

// defaultPipeline returns the default pipeline (the first marked default,
// else the first one), installing the equipment pipeline when there is
// none at all.
func (m *Module) defaultPipeline(ctx context.Context) (*Pipeline, error) {
	sys := access.System()
	for _, filter := range []string{"is_default == true", ""} {
		res, err := m.recs.List(ctx, sys, Pipelines, records.ListOptions{Filter: filter, Sort: "id", PerPage: 1, Count: records.CountNone, Fields: []string{"stages"}})
		if err != nil {
			return nil, err
		}
		if len(res.Items) > 0 {
			return pipelineOf(res.Items[0]), nil
		}
	}
	rec, err := m.recs.Create(ctx, sys, Pipelines, equipmentPipeline())
	if err != nil {
		return nil, err
	}
	return pipelineOf(rec), nil
}

// resolvePipeline is the pipeline a request names, or the default one.
func (m *Module) resolvePipeline(ctx context.Context, id string) (*Pipeline, error) {
	if strings.TrimSpace(id) == "" {
		return m.defaultPipeline(ctx)
	}
	var n int64
	if _, err := fmt.Sscan(id, &n); err != nil || n <= 0 {
		return nil, apperr.Invalid("sales_pipeline_unknown")
	}
	p, err := m.pipeline(ctx, n)
	if err != nil {
		if ae, ok := apperr.As(err); ok && ae.Code == "not_found" {
			return nil, apperr.Invalid("sales_pipeline_unknown")
		}
		return nil, err
	}
	return p, nil
}

// equipmentPipeline is the shipped pipeline of REQUIREMENTS S5.
func equipmentPipeline() map[string]any {
	stage := func(name, nameEn, code, prob, kind string, req ...string) map[string]any {
		r := []any{}
		for _, f := range req {
			r = append(r, f)
		}
		return map[string]any{"name": name, "name_en": nameEn, "code": code, "probability": prob, "kind": kind, "required_fields": r}
	}
	return map[string]any{"name": "设备销售流程", "is_default": true,
		"description": "需求确认 → 技术交流 → 方案设计 → 报价 → 投标/比价 → 商务谈判 → 合同审核 → 赢单 / 输单",
		"stages": []any{
			stage("需求确认", "Requirements", "requirement", "10", StatusOpen),
			stage("技术交流", "Technical exchange", "tech_exchange", "20", StatusOpen),
			stage("方案设计", "Solution design", "solution", "40", StatusOpen),
			stage("报价", "Quotation", "quotation", "60", StatusOpen, "amount"),
			stage("投标/比价", "Bidding", "bidding", "70", StatusOpen, "amount", "expected_close"),
			stage("商务谈判", "Negotiation", "negotiation", "80", StatusOpen, "amount", "expected_close"),
			stage("合同审核", "Contract review", "contract_review", "90", StatusOpen, "amount", "expected_close", "contact"),
			stage("赢单", "Won", "won", "100", StatusWon),
			stage("输单", "Lost", "lost", "0", StatusLost),
		}}
}

// beforePipeline checks a pipeline: unique stage codes, at least one
// open, one won and one lost stage, required fields that opportunities
// have.
func (m *Module) beforePipeline(ctx context.Context, c *records.Change) error {
	if c.New == nil {
		return nil
	}
	p := pipelineOf(c.New)
	var errs []apperr.FieldError
	seen := map[string]bool{}
	opp, _ := m.recs.Registry().Get(Opportunities)
	for i, s := range p.Stages {
		if seen[s.Code] {
			errs = append(errs, apperr.Field(fmt.Sprintf("stages[%d].code", i), "sales_stage_code_repeated", "code", s.Code))
		}
		seen[s.Code] = true
		for _, f := range s.Required {
			if opp != nil && opp.Field(f) == nil {
				errs = append(errs, apperr.Field(fmt.Sprintf("stages[%d].required_fields", i), "sales_stage_field_unknown", "field", f))
			}
		}
	}
	for _, kind := range []string{StatusOpen, StatusWon, StatusLost} {
		if _, ok := p.firstOf(kind); !ok {
			errs = append(errs, apperr.Field("stages", "sales_pipeline_needs_"+kind))
		}
	}
	if len(errs) > 0 {
		return apperr.Fields(errs...)
	}
	if p.Default && (c.Old == nil || c.Old["is_default"] != true) {
		// One default: the others stop being it.
		res, err := m.recs.List(ctx, access.System(), Pipelines, records.ListOptions{Filter: "is_default == true", PerPage: 100, Count: records.CountNone})
		if err != nil {
			return err
		}
		for _, r := range res.Items {
			if r.ID() != c.New.ID() {
				if _, err := m.recs.Update(ctx, access.System(), Pipelines, r.ID(), map[string]any{"is_default": false}, 0); err != nil {
					return err
				}
			}
		}
	}
	return nil
}
