package apitest

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tenon-crm/tenon/internal/platform/access"
	"github.com/tenon-crm/tenon/internal/platform/jobs"
	"github.com/tenon-crm/tenon/internal/platform/records"
)

// timers lists the queued reminder jobs.
func (e *env) timers() []jobs.Job {
	e.t.Helper()
	page, err := e.app.Jobs.List(context.Background(), jobs.Filter{Kind: "notify.task_timer", Status: jobs.StatusQueued})
	if err != nil {
		e.t.Fatal(err)
	}
	return page.Jobs
}

func (e *env) runDue() {
	e.t.Helper()
	if _, err := e.app.Jobs.RunDue(context.Background()); err != nil {
		e.t.Fatal(err)
	}
}

// inboxTitles are the titles in a user's inbox, newest first.
func inboxTitles(c *client) []string {
	var out []string
	for _, it := range c.do("GET", "/api/v1/notifications?limit=100", nil, nil).want(200).items() {
		out = append(out, it["title"].(string))
	}
	return out
}

func rfc(t time.Time) string { return t.Format(time.RFC3339) }

// TestTasks: reminders at remind_at and due_at driven by the clock,
// rescheduling when the times change, no reminders for completed,
// cancelled or deleted tasks, task.assigned for delegated tasks, the
// baseline permissions, and tasks created by the rule engine through the
// records service.
func TestTasks(t *testing.T) {
	t0 := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	clk := &testClock{t: t0}
	e := openEnv(t, "tenon_api", clk)
	rep, mgr, rep2 := e.as("rep.east"), e.as("sales.manager"), e.as("rep.east2")

	// A rep's own task: defaults, two timers, nothing sent yet.
	task := rep.do("POST", "/api/v1/records/tasks", map[string]any{"title": "回访苏州精密", "description": "确认模具验收时间",
		"remind_at": rfc(t0.Add(24 * time.Hour)), "due_at": rfc(t0.Add(48 * time.Hour))}, nil).want(201).json()
	id := task["id"].(string)
	if task["status"] != "open" || task["priority"] != "normal" || task["owner"] != strconv.FormatInt(e.userID("rep.east"), 10) {
		t.Fatalf("task %v", task)
	}
	if n := len(e.timers()); n != 2 {
		t.Fatalf("%d timers", n)
	}
	e.runDue()
	if got := inboxTitles(rep); len(got) != 0 {
		t.Fatalf("own task notified: %v", got)
	}
	// The reminder fires at remind_at.
	clk.Set(t0.Add(24*time.Hour + time.Minute))
	e.runDue()
	items := rep.do("GET", "/api/v1/notifications", nil, nil).want(200).items()
	if len(items) != 1 || items[0]["title"] != "任务提醒：回访苏州精密" || items[0]["kind"] != "task.due" ||
		items[0]["entity"] != "tasks" || items[0]["record_id"] != id || !strings.Contains(items[0]["body"].(string), "2026-11-22 17:00") {
		t.Fatalf("reminder %v", items)
	}
	// Moving the due date reschedules: nothing at the old time, one at the new.
	rep.do("PATCH", "/api/v1/records/tasks/"+id, map[string]any{"due_at": rfc(t0.Add(72 * time.Hour))}, nil).want(200)
	if ts := e.timers(); len(ts) != 1 || !ts[0].RunAt.Equal(t0.Add(72*time.Hour)) {
		t.Fatalf("timers after the move: %+v", ts)
	}
	clk.Set(t0.Add(48*time.Hour + time.Minute))
	e.runDue()
	if got := inboxTitles(rep); len(got) != 1 {
		t.Fatalf("the old due time fired: %v", got)
	}
	clk.Set(t0.Add(72*time.Hour + time.Minute))
	e.runDue()
	if got := inboxTitles(rep); len(got) != 2 || got[0] != "任务已到截止时间：回访苏州精密" {
		t.Fatalf("due: %v", got)
	}

	// Completing cancels the timers; reopening brings back what is ahead.
	now := clk.Now()
	t2 := rep.do("POST", "/api/v1/records/tasks", map[string]any{"title": "寄样品", "remind_at": rfc(now.Add(time.Hour)),
		"due_at": rfc(now.Add(2 * time.Hour))}, nil).want(201).json()
	id2 := t2["id"].(string)
	done := rep.do("PATCH", "/api/v1/records/tasks/"+id2, map[string]any{"status": "done"}, nil).want(200).json()
	if done["completed_at"] == nil || len(e.timers()) != 0 {
		t.Fatalf("completed: %v, %d timers", done, len(e.timers()))
	}
	rep.do("PATCH", "/api/v1/records/tasks/"+id2, map[string]any{"status": "open"}, nil).want(200)
	if ts := e.timers(); len(ts) != 2 {
		t.Fatalf("reopened: %d timers", len(ts))
	}
	rep.do("PATCH", "/api/v1/records/tasks/"+id2, map[string]any{"status": "cancelled"}, nil).want(200)
	if n := len(e.timers()); n != 0 {
		t.Fatalf("cancelled task keeps %d timers", n)
	}
	// Deleting cancels too.
	t3 := rep.do("POST", "/api/v1/records/tasks", map[string]any{"title": "报价跟进", "due_at": rfc(now.Add(time.Hour))}, nil).want(201).json()
	rep.do("DELETE", "/api/v1/records/tasks/"+t3["id"].(string), nil, nil).want(204)
	clk.Set(now.Add(3 * time.Hour))
	e.runDue()
	if got := inboxTitles(rep); len(got) != 2 {
		t.Fatalf("completed, cancelled or deleted tasks sent %v", got)
	}
	// A reminder already in the past is not scheduled.
	rep.do("POST", "/api/v1/records/tasks", map[string]any{"title": "过去的提醒", "remind_at": rfc(t0)}, nil).want(201)
	if n := len(e.timers()); n != 0 {
		t.Fatalf("%d timers for a past reminder", n)
	}

	// Delegation: the manager gives rep.east a task.
	now = clk.Now()
	del := mgr.do("POST", "/api/v1/records/tasks", map[string]any{"title": "准备技术方案", "priority": "high",
		"owner": strconv.FormatInt(e.userID("rep.east"), 10), "due_at": rfc(now.Add(24 * time.Hour))}, nil).want(201).json()
	delID := del["id"].(string)
	items = rep.do("GET", "/api/v1/notifications?limit=1", nil, nil).want(200).items()
	if items[0]["title"] != "李经理 给您分配了任务：准备技术方案" || items[0]["kind"] != "task.assigned" || items[0]["actor_name"] != "李经理" {
		t.Fatalf("assigned %v", items[0])
	}
	mgr.do("GET", "/api/v1/records/tasks/"+delID, nil, nil).want(200) // the creator follows it
	rep2.do("GET", "/api/v1/records/tasks/"+delID, nil, nil).want(404)
	rep2.do("GET", "/api/v1/records/tasks/"+id, nil, nil).want(404)
	if got := rep2.do("GET", "/api/v1/records/tasks", nil, nil).want(200).items(); len(got) != 0 {
		t.Fatalf("rep.east2 sees %d tasks", len(got))
	}
	rep.do("PATCH", "/api/v1/records/tasks/"+delID, map[string]any{"priority": "normal"}, nil).want(200)
	// The owner cannot pass on a task someone else gave them; its creator can.
	rep.do("PATCH", "/api/v1/records/tasks/"+delID, map[string]any{"owner": strconv.FormatInt(e.userID("rep.east2"), 10)}, nil).want(403)
	mgr.do("PATCH", "/api/v1/records/tasks/"+delID, map[string]any{"owner": strconv.FormatInt(e.userID("rep.east2"), 10)}, nil).want(200)
	if got := inboxTitles(rep2); len(got) != 1 || got[0] != "李经理 给您分配了任务：准备技术方案" {
		t.Fatalf("reassigned: %v", got)
	}
	if items := rep2.do("GET", "/api/v1/notifications", nil, nil).want(200).items(); items[0]["record_id"] != delID {
		t.Fatalf("the new owner gets the link: %v", items[0])
	}

	// Validation.
	rep.do("POST", "/api/v1/records/tasks", map[string]any{"title": "x", "related_entity": "nosuch", "related_id": "1"}, nil).want(422)
	rep.do("POST", "/api/v1/records/tasks", map[string]any{"title": "x", "related_id": "5"}, nil).want(422)
	rep.do("POST", "/api/v1/records/tasks", map[string]any{"title": "x", "related_entity": "users"}, nil).want(422)
	rep.do("POST", "/api/v1/records/tasks", map[string]any{"title": "x", "status": "later"}, nil).want(422)
	rel := rep.do("POST", "/api/v1/records/tasks", map[string]any{"title": "拜访王总", "related_entity": "users",
		"related_id": strconv.FormatInt(e.userID("gm"), 10)}, nil).want(201).json()
	if rel["related_entity"] != "users" {
		t.Fatalf("related %v", rel)
	}

	// The rule engine creates a task through the records service, inside
	// its own transaction, as the system acting for a rule.
	ctx := context.Background()
	now = clk.Now()
	var ruleTask records.Record
	err := e.app.DB.WithTx(ctx, func(ctx context.Context) error {
		var err error
		ruleTask, err = e.app.Records.Create(ctx, access.System().WithSource(access.SourceRule), "tasks", map[string]any{
			"title": "新线索 3 天未跟进", "owner": strconv.FormatInt(e.userID("rep.east2"), 10), "remind_at": rfc(now.Add(time.Hour)),
			"related_entity": "users", "related_id": strconv.FormatInt(e.userID("rep.east"), 10)})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := inboxTitles(rep2); len(got) != 2 || got[0] != "Tenon 给您分配了任务：新线索 3 天未跟进" {
		t.Fatalf("rule task: %v", got)
	}
	hist := rep2.do("GET", "/api/v1/records/tasks/"+strconv.FormatInt(ruleTask.ID(), 10)+"/history", nil, nil).want(200).items()
	if len(hist) != 1 || hist[0]["source"] != "rule" {
		t.Fatalf("history %v", hist)
	}
	clk.Set(now.Add(2 * time.Hour))
	e.runDue()
	if got := inboxTitles(rep2); len(got) != 3 || got[0] != "任务提醒：新线索 3 天未跟进" {
		t.Fatalf("rule task reminder: %v", got)
	}
}
