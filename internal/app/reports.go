package app

import (
	"context"

	"github.com/tenon-crm/tenon/internal/engine/reports"
	"github.com/tenon-crm/tenon/internal/platform/access"
	"github.com/tenon-crm/tenon/internal/platform/httpapi"
	"github.com/tenon-crm/tenon/internal/platform/notify"
)

// The report engine (internal/engine/reports): reports and dashboards are
// records; reports compile to one aggregate query each under the viewer's
// scope; dashboards are e-mailed on a schedule.

// wireReports builds the engine on the records service, the principals of
// the access service (recipients see their own figures) and the mail of
// the notification service.
func (a *App) wireReports(surfaces *[]httpapi.Surface) {
	cfg := reports.Config{Records: a.Records, Principals: a.Access, Now: a.Cfg.Now, Log: a.Log}
	if a.Notify != nil {
		cfg.Mailer = reportMailer{a.Notify}
	}
	a.Reports = reports.New(cfg)
	a.Reports.RegisterJobs(a.Jobs)
	a.Access.AddBaseline(reports.Grants()...)
	*surfaces = append(*surfaces, a.Reports.Surface())
}

// installReports creates the built-in reports and dashboards once and
// keeps the e-mail schedule. It runs after the modules' installs, whose
// entities the built-in reports read.
func (a *App) installReports(ctx context.Context) error {
	if err := a.Reports.Install(ctx); err != nil {
		return err
	}
	return a.Reports.Schedule(ctx, a.Jobs)
}

// reportMailer sends dashboards through the notification service's mail.
type reportMailer struct{ n *notify.Service }

func (m reportMailer) SendReport(ctx context.Context, p *access.Principal, to string, r reports.Mail) error {
	return m.n.SendExternal(ctx, p, notify.ExternalEmail{To: to, Subject: r.Subject, Text: r.Text, Entity: reports.Dashboards, RecordID: r.RecordID,
		Attachments: []notify.Attachment{{Name: r.FileName, ContentType: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", Data: r.Workbook}}})
}
