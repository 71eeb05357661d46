package client_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"time"

	"github.com/tenon-crm/tenon/client"
)

// Connect with an API token and read a page of leads.
func ExampleNew() {
	c, err := client.New("https://crm.example.com", client.WithToken(os.Getenv("TENON_TOKEN")), client.WithLanguage("en"))
	if err != nil {
		log.Fatal(err)
	}
	page, err := c.List(context.Background(), "leads", &client.ListOptions{
		Filter: `region == "华东" && status == "new"`, Sort: "-created_at", PerPage: 100, Fields: []string{"company", "phone"}})
	if err != nil {
		log.Fatal(err)
	}
	for _, lead := range page.Items {
		fmt.Println(lead.ID(), lead.String("company"))
	}
}

// Sign in as a user; the session's cookie and CSRF token are kept.
func ExampleClient_Login() {
	ctx := context.Background()
	c, _ := client.New("https://crm.example.com")
	if _, err := c.Login(ctx, "erp.sync", os.Getenv("TENON_PASSWORD")); err != nil {
		log.Fatal(err)
	}
	tok, err := c.CreateToken(ctx, client.TokenRequest{Name: "nightly sync", Scopes: []string{client.ScopeRecordsRead, client.ScopeRecordsWrite}})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("keep this token safe:", tok.Token)
}

// Iterate over every record of a filtered list.
func ExampleClient_All() {
	ctx := context.Background()
	c, _ := client.New("https://crm.example.com", client.WithToken(os.Getenv("TENON_TOKEN")))
	total := 0
	for order, err := range c.All(ctx, "sales_orders", client.ListOptions{Filter: `status == "confirmed"`}) {
		if err != nil {
			log.Fatal(err)
		}
		total++
		_ = order.ID()
	}
	fmt.Println(total, "confirmed orders")
}

// Create safely under retries, then update only the version you read.
func ExampleClient_Create() {
	ctx := context.Background()
	c, _ := client.New("https://crm.example.com", client.WithToken(os.Getenv("TENON_TOKEN")))
	lead, err := c.Create(ctx, "leads", map[string]any{"company": "苏州精密机械有限公司", "phone": "13800000000"},
		client.IdempotencyKey("import-2026-11-20-row-17"))
	var e *client.Error
	if errors.As(err, &e) && e.Status == http.StatusUnprocessableEntity {
		for _, f := range e.Fields {
			fmt.Println(f.Field, f.Message)
		}
		return
	} else if err != nil {
		log.Fatal(err)
	}
	_, err = c.Update(ctx, "leads", lead.ID(), map[string]any{"status": "qualified"}, client.IfVersion(lead.Version()))
	if client.IsPreconditionFailed(err) {
		fmt.Println("someone changed the lead meanwhile; read it again")
	}
}

// Push a record an ERP knows by its own number: calling twice leaves one.
func ExampleClient_Upsert() {
	ctx := context.Background()
	c, _ := client.New("https://crm.example.com", client.WithToken(os.Getenv("TENON_TOKEN")))
	rec, created, err := c.Upsert(ctx, "shipments", "erp", "DN-2026-00017", map[string]any{"status": "shipped"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(rec.ID(), created)
}

// Follow the change feed, storing the cursor so a restart resumes.
func ExampleClient_Follow() {
	ctx := context.Background()
	c, _ := client.New("https://crm.example.com", client.WithToken(os.Getenv("TENON_TOKEN")))
	cursor, _ := os.ReadFile("cursor.txt")
	err := c.Follow(ctx, string(cursor), client.FollowOptions{
		Entities: []string{"sales_orders"},
		Save:     func(_ context.Context, cur string) error { return os.WriteFile("cursor.txt", []byte(cur), 0o600) },
	}, func(ctx context.Context, ch client.Change) error {
		fmt.Println(ch.Event, ch.Entity, ch.RecordID, ch.Changes)
		return nil // an error stops Follow; the page is handled again next time
	})
	log.Fatal(err)
}

// Check a webhook delivery in the receiving handler.
func ExampleVerifySignature() {
	secret := "the-subscription-secret-of-32-chars-or-more"
	http.HandleFunc("/tenon", func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
		if err != nil {
			http.Error(w, "too large", http.StatusRequestEntityTooLarge)
			return
		}
		if err := client.VerifySignature(secret, r.Header.Get(client.SignatureHeader), body, 5*time.Minute); err != nil {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		// Handle it once per Tenon-Delivery id, then answer 2xx.
		w.WriteHeader(http.StatusNoContent)
	})
}

// Sign and verify: the scheme of Tenon-Signature.
func ExampleSign() {
	at := time.Unix(1_800_000_000, 0)
	body := []byte(`{"event":"ping"}`)
	h := client.Sign("secret", at, body)
	fmt.Println(h[:16])
	fmt.Println(client.VerifySignatureAt("secret", h, body, 5*time.Minute, at.Add(time.Minute)))
	fmt.Println(client.VerifySignatureAt("secret", h, body, 5*time.Minute, at.Add(time.Hour)))
	// Output:
	// t=1800000000,v1=
	// <nil>
	// tenon: webhook signature timestamp outside the tolerance
}

// Download the list as the user sees it.
func ExampleClient_Export() {
	ctx := context.Background()
	c, _ := client.New("https://crm.example.com", client.WithToken(os.Getenv("TENON_TOKEN")))
	dl, err := c.Export(ctx, "leads", client.ExportOptions{Format: "xlsx", Filter: `region == "华东"`, Sort: "-created_at",
		Fields: []string{"company", "contact_name", "phone", "owner"}})
	if err != nil {
		log.Fatal(err)
	}
	defer dl.Close()
	f, err := os.Create(dl.Name)
	if err != nil {
		log.Fatal(err)
	}
	if _, err := io.Copy(f, dl); err != nil { // a cut-off transfer is an error here
		log.Fatal(err)
	}
	if err := f.Close(); err != nil {
		log.Fatal(err)
	}
}
