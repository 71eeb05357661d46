package client

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Change is one entry of the change feed: a record was created, updated,
// deleted or restored.
type Change struct {
	Seq        string    `json:"seq"`
	Entity     string    `json:"entity"`
	RecordID   string    `json:"record_id"`
	Event      string    `json:"event"`
	Version    int64     `json:"version"`
	Actor      string    `json:"actor"` // user id ("" for the system)
	OccurredAt time.Time `json:"occurred_at"`
	// Changes holds the changed fields the caller may read.
	Changes map[string]any `json:"changes"`
}

// ChangePage is a page of the change feed.
type ChangePage struct {
	Items []Change `json:"items"`
	// Next is the cursor to continue from (also when Items is empty: it
	// moves past changes the caller may not see).
	Next string `json:"next"`
	// More says that more changes are waiting right away.
	More bool `json:"has_more"`
}

// Changes returns the changes after the cursor since ("" for the
// beginning), in commit order, of the given entities (all the caller may
// read when none), limited to records in the caller's scope and fields
// they may read. Nothing is skipped even when writes commit concurrently.
func (c *Client) Changes(ctx context.Context, since string, entities ...string) (*ChangePage, error) {
	return c.changes(ctx, since, entities, 0)
}

func (c *Client) changes(ctx context.Context, since string, entities []string, limit int) (*ChangePage, error) {
	q := url.Values{}
	if since != "" {
		q.Set("since", since)
	}
	if len(entities) > 0 {
		q.Set("entity", strings.Join(entities, ","))
	}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	var p ChangePage
	if _, err := c.call(ctx, request{method: http.MethodGet, path: "/changes", query: q}, &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// FollowOptions tune Follow.
type FollowOptions struct {
	// Entities narrows the feed (all the caller may read when empty).
	Entities []string
	// Limit is the page size (default 200, at most 1000).
	Limit int
	// Interval is the pause when the feed is caught up (default 5 s).
	Interval time.Duration
	// Save stores the cursor after every page whose changes fn has
	// handled, so a restarted follower resumes there (at-least-once: a
	// change handled just before a crash is handled again). A Save error
	// stops Follow.
	Save func(ctx context.Context, cursor string) error
}

// Follow reads the change feed from the cursor since and calls fn for each
// change, in commit order, until ctx ends (it then returns ctx's error) or
// fn fails (it returns fn's error, the cursor saved being that of the last
// page fully handled). Network failures and server errors (5xx, 429) are
// retried with back-off up to a minute apart; other refusals (401, 403,
// a bad cursor) end it.
func (c *Client) Follow(ctx context.Context, since string, o FollowOptions, fn func(context.Context, Change) error) error {
	if o.Interval <= 0 {
		o.Interval = 5 * time.Second
	}
	backoff := time.Duration(0)
	for {
		page, err := c.changes(ctx, since, o.Entities, o.Limit)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if !transient(err) {
				return err
			}
			backoff = min(max(2*backoff, time.Second), time.Minute)
			if err := sleep(ctx, backoff); err != nil {
				return err
			}
			continue
		}
		backoff = 0
		for _, ch := range page.Items {
			if err := fn(ctx, ch); err != nil {
				return err
			}
		}
		if page.Next != since {
			since = page.Next
			if o.Save != nil {
				if err := o.Save(ctx, since); err != nil {
					return err
				}
			}
		}
		if !page.More {
			if err := sleep(ctx, o.Interval); err != nil {
				return err
			}
		}
	}
}

// transient reports whether a failed call is worth retrying.
func transient(err error) bool {
	var e *Error
	if !errors.As(err, &e) {
		return true // the network
	}
	return e.Status >= 500 || e.Status == http.StatusTooManyRequests
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
