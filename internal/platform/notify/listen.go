package notify

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Several Tenon processes on one PostgreSQL: a notification written by one
// must reach the event streams held by another. Every transaction that
// changes inboxes runs pg_notify(pgChannel, "<token>:<user ids>") (see
// wake); PostgreSQL delivers it to every listening session when, and only
// if, the transaction commits. Each serving process keeps one extra
// connection that LISTENs and wakes the named users' streams here. The
// token tells a process its own notifications, which it has already
// delivered in-process after the commit.
//
// LISTEN/NOTIFY was chosen over polling the table because it costs nothing
// while nothing happens and delivers within milliseconds. A notification
// sent while a listener is reconnecting is not queued for it; the
// listener therefore wakes every local stream after each (re)connect, and
// each stream also re-reads its inbox at every heartbeat. SQLite has a
// single writing process, whose in-process wake-ups are enough; the
// heartbeat check also covers any other writer.

// pgChannel is the LISTEN/NOTIFY channel of inbox changes.
const pgChannel = "tenon_notify"

// maxNotifyPayload stays below PostgreSQL's 8000-byte payload limit.
const maxNotifyPayload = 7000

// notifyPayloads splits user ids into "<token>:<id>,<id>…" payloads.
func notifyPayloads(token string, users []int64) []string {
	var out []string
	var b strings.Builder
	for _, u := range users {
		id := strconv.FormatInt(u, 10)
		if b.Len() > 0 && b.Len()+1+len(id) > maxNotifyPayload {
			out = append(out, b.String())
			b.Reset()
		}
		if b.Len() == 0 {
			b.WriteString(token)
			b.WriteByte(':')
		} else {
			b.WriteByte(',')
		}
		b.WriteString(id)
	}
	if b.Len() > 0 {
		out = append(out, b.String())
	}
	return out
}

// parseNotifyPayload reads a payload; ok is false for malformed ones.
func parseNotifyPayload(p string) (token string, users []int64, ok bool) {
	token, list, found := strings.Cut(p, ":")
	if !found || token == "" {
		return "", nil, false
	}
	for _, f := range strings.Split(list, ",") {
		id, err := strconv.ParseInt(f, 10, 64)
		if err != nil || id <= 0 {
			return "", nil, false
		}
		users = append(users, id)
	}
	return token, users, len(users) > 0
}

// listen holds the LISTEN connection until ctx ends, reconnecting with
// back-off.
func (s *Service) listen(ctx context.Context) {
	backoff := time.Second
	for ctx.Err() == nil {
		start := time.Now()
		err := s.listenOnce(ctx)
		if ctx.Err() != nil {
			return
		}
		s.log.Warn("notification listener", "err", err)
		if time.Since(start) > time.Minute {
			backoff = time.Second
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 30*time.Second)
	}
}

func (s *Service) listenOnce(ctx context.Context) error {
	conn, err := pgx.Connect(ctx, s.db.DSN())
	if err != nil {
		return err
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = conn.Close(cctx)
	}()
	if _, err := conn.Exec(ctx, "LISTEN "+pgChannel); err != nil {
		return err
	}
	// Whatever was written while no listener was connected.
	s.hub.publishAll()
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		token, users, ok := parseNotifyPayload(n.Payload)
		if !ok || token == s.token {
			continue
		}
		s.hub.publish(users)
	}
}
