package app

import (
	"context"

	"github.com/tenon-crm/tenon/internal/module/quoting"
	"github.com/tenon-crm/tenon/internal/platform/access"
	"github.com/tenon-crm/tenon/internal/platform/httpapi"
	"github.com/tenon-crm/tenon/internal/platform/notify"
)

// The quoting module (internal/module/quoting): the catalog, price books,
// quotes, contracts and sales orders; its approval flows are installed as
// ordinary flow definitions.

// quotingEntities lists the module's entity files (added before the
// records service is built).
func quotingEntities() []module { return []module{{fs: quoting.Entities, dir: "entities"}} }

// wireQuoting builds the module on the records service, the flow engine,
// the printing engine and the mail of the notification service.
func (a *App) wireQuoting(surfaces *[]httpapi.Surface) error {
	cfg := quoting.Config{DB: a.DB, Records: a.Records, Flows: a.Flow, Now: a.Cfg.Now, Log: a.Log}
	if a.Notify != nil {
		cfg.Mailer = quotingMailer{a.Notify}
	}
	if a.Printing != nil {
		cfg.Printer = a.Printing
	}
	a.Quoting = quoting.New(cfg)
	a.Quoting.RegisterJobs(a.Jobs)
	a.Access.AddBaseline(quoting.Grants()...)
	*surfaces = append(*surfaces, a.Quoting.Surface())
	return nil
}

// installQuoting installs the module's settings and flows and keeps its
// schedule.
func (a *App) installQuoting(ctx context.Context) error {
	if err := a.Quoting.Install(ctx); err != nil {
		return err
	}
	return a.Quoting.Schedule(ctx, a.Jobs)
}

// quotingModule is the type of App.Quoting.
type quotingModule = quoting.Module

// quotingMailer sends the module's e-mails through the notification
// service.
type quotingMailer struct{ n *notify.Service }

func (m quotingMailer) SendExternal(ctx context.Context, p *access.Principal, e quoting.ExternalMail) error {
	atts := make([]notify.Attachment, len(e.Attachments))
	for i, a := range e.Attachments {
		atts[i] = notify.Attachment{Name: a.Name, ContentType: a.ContentType, Data: a.Data}
	}
	return m.n.SendExternal(ctx, p, notify.ExternalEmail{To: e.To, Subject: e.Subject, Text: e.Text, Entity: e.Entity, RecordID: e.RecordID, Attachments: atts})
}
