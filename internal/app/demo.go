package app

import (
	"bytes"
	"context"
	"fmt"

	"github.com/tenon-crm/tenon/internal/engine/flow"
	"github.com/tenon-crm/tenon/internal/module/demo"
)

// LoadQuotingDemo adds the demo's quote-to-order business (after
// demo.Load and demo.LoadCompany): the shipped approval flows are
// published now that the demo's roles exist, the demo's approvers decide
// the contracts the demo signs, and quotes past their validity expire.
func (a *App) LoadQuotingDemo(ctx context.Context, clk demo.Clock) error {
	if err := a.Quoting.Install(ctx); err != nil {
		return err
	}
	deps := demo.QuotingDeps{Approve: a.approvePending, Scan: a.storeScan}
	if err := demo.LoadQuoting(ctx, a.Records, clk, deps); err != nil {
		return err
	}
	_, err := a.Quoting.ExpireQuotes(ctx)
	return err
}

// approvePending approves a record's flow task by task, each as its
// assignee, until no task is pending.
func (a *App) approvePending(ctx context.Context, entity string, id int64) error {
	for range 20 {
		tasks, err := a.Flow.PendingTasks(ctx, entity, id)
		if err != nil || len(tasks) == 0 {
			return err
		}
		for _, t := range tasks {
			p, err := a.Access.Principal(ctx, t.Assignee)
			if err != nil {
				return err
			}
			if _, _, err := a.Flow.Act(ctx, p, t.ID, "approve", flow.Input{Comment: "同意"}); err != nil {
				return fmt.Errorf("demo approval of %s %d at %s: %w", entity, id, t.Node, err)
			}
		}
	}
	return fmt.Errorf("demo approval of %s %d does not end", entity, id)
}

// demoScan is a one-page PDF standing in for a signed contract's scan.
const demoScan = "%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n" +
	"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"

// storeScan stores the demo's scan of a signed contract for a user.
func (a *App) storeScan(ctx context.Context, name string, user int64) (string, error) {
	f, err := a.Files.Upload(ctx, name, bytes.NewReader([]byte(demoScan)), user)
	if err != nil {
		return "", err
	}
	return f.ID, nil
}
