package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/tenon-crm/tenon/internal/platform/access"
	"github.com/tenon-crm/tenon/internal/platform/apperr"
)

// hub fans "your inbox changed" out to the event streams open in this
// process. It carries no content: each stream reads its own user's rows,
// so a wake-up can never show one user another's messages.
type hub struct {
	mu     sync.Mutex
	subs   map[int64]map[*subscriber]struct{}
	closed bool
	done   chan struct{}
}

type subscriber struct {
	user int64
	wake chan struct{} // buffered 1: wake-ups coalesce
}

func newHub() *hub {
	return &hub{subs: map[int64]map[*subscriber]struct{}{}, done: make(chan struct{})}
}

// subscribe registers a stream of user, or returns nil once closed.
func (h *hub) subscribe(user int64) *subscriber {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil
	}
	sub := &subscriber{user: user, wake: make(chan struct{}, 1)}
	if h.subs[user] == nil {
		h.subs[user] = map[*subscriber]struct{}{}
	}
	h.subs[user][sub] = struct{}{}
	return sub
}

func (h *hub) unsubscribe(sub *subscriber) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.subs[sub.user], sub)
	if len(h.subs[sub.user]) == 0 {
		delete(h.subs, sub.user)
	}
}

// publish wakes the streams of the users (never blocks).
func (h *hub) publish(users []int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, u := range users {
		for sub := range h.subs[u] {
			poke(sub.wake)
		}
	}
}

// publishAll wakes every stream (after a missed stretch of notifications).
func (h *hub) publishAll() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, subs := range h.subs {
		for sub := range subs {
			poke(sub.wake)
		}
	}
}

func poke(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

func (h *hub) close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.closed {
		h.closed = true
		close(h.done)
	}
}

// streams counts open streams (tests and metrics).
func (h *hub) streams() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, subs := range h.subs {
		n += len(subs)
	}
	return n
}

// OpenStreams returns how many event streams are open in this process.
func (s *Service) OpenStreams() int { return s.hub.streams() }

// sentWindow is how long a stream remembers the ids it sent. On PostgreSQL
// ids are handed out at insert, not at commit, so a notification can
// become visible after one with a larger id; a stream therefore keeps
// looking below its newest id for this long before it moves its floor past
// what it has sent. Transactions that write notifications are short
// (requests, jobs of at most a few seconds), far below this bound.
const sentWindow = 2 * time.Minute

// replayMax bounds what a reconnecting stream replays (Last-Event-ID).
const replayMax = 50

// stream is one open event stream of one user.
type stream struct {
	s      *Service
	p      *access.Principal
	w      http.ResponseWriter
	rc     *http.ResponseController
	floor  int64               // every id at or below has been dealt with
	sent   map[int64]time.Time // ids above floor already sent, and when
	unread int64               // the count last sent
}

// Stream serves GET /api/v1/notifications/stream: server-sent events for
// p's inbox until the client goes away, the stream reaches MaxStreamAge
// (the browser reconnects), p is deactivated, or the service closes.
//
// Events: "unread" {"unread": n} on connect and whenever the count changes
// without a new notification (read in another tab); "notification"
// {"notification": Item, "unread": n} for each new notification, with the
// notification id as the event id, so a reconnecting EventSource sends
// Last-Event-ID and gets what it missed (up to replayMax). Comment lines
// keep idle connections open through proxies.
func (s *Service) Stream(w http.ResponseWriter, r *http.Request, p *access.Principal) error {
	if p == nil || p.UserID == 0 {
		return apperr.New(apperr.ErrUnauthenticated, "unauthenticated")
	}
	sub := s.hub.subscribe(p.UserID)
	if sub == nil {
		return apperr.New(apperr.ErrUnavailable, "notify_shutting_down")
	}
	defer s.hub.unsubscribe(sub)
	ctx := r.Context()
	st := &stream{s: s, p: p, w: w, rc: http.NewResponseController(w), sent: map[int64]time.Time{}}
	last, err := strconv.ParseInt(r.Header.Get("Last-Event-ID"), 10, 64)
	if err != nil || last < 0 {
		last = -1
	}
	if err := st.start(ctx, last); err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
	w.WriteHeader(http.StatusOK)
	// The client reconnects after 3 s if the connection drops.
	if _, err := fmt.Fprint(w, "retry: 3000\n\n"); err != nil {
		return nil
	}
	if err := st.catchUp(ctx, true); err != nil {
		return st.end(err)
	}
	beat := time.NewTicker(s.opt.Heartbeat)
	defer beat.Stop()
	age := time.NewTimer(s.opt.MaxStreamAge)
	defer age.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-s.hub.done:
			return nil
		case <-age.C:
			return nil
		case <-sub.wake:
			if err := st.catchUp(ctx, false); err != nil {
				return st.end(err)
			}
		case <-beat.C:
			ok, err := st.userActive(ctx)
			if err != nil || !ok {
				return st.end(err)
			}
			if _, err := fmt.Fprint(w, ": ping\n\n"); err != nil {
				return nil
			}
			// A missed wake-up (another process's write while the
			// PostgreSQL listener reconnected, a writer without Run) is
			// caught up here.
			if err := st.catchUp(ctx, false); err != nil {
				return st.end(err)
			}
		}
	}
}

// start sets the floor: after Last-Event-ID when given (at most replayMax
// notifications back), else the user's newest notification.
func (st *stream) start(ctx context.Context, last int64) error {
	var newest int64
	if err := st.s.db.QueryRow(ctx, `SELECT COALESCE(MAX(id), 0) FROM notifications WHERE recipient = ?`, st.p.UserID).Scan(&newest); err != nil {
		return err
	}
	st.floor = newest
	if last >= 0 && last < newest {
		var bound int64
		err := st.s.db.QueryRow(ctx, `SELECT COALESCE(MIN(id), 0) FROM (SELECT id FROM notifications WHERE recipient = ? AND id > ?
			ORDER BY id DESC LIMIT `+strconv.Itoa(replayMax)+`) x`, st.p.UserID, last).Scan(&bound)
		if err != nil {
			return err
		}
		st.floor = max(last, bound-1)
	}
	st.unread = -1
	return nil
}

// end stops a stream after an error: the client only sees the connection
// close (the response has started), the error is logged.
func (st *stream) end(err error) error {
	if err != nil && st.s.log != nil {
		st.s.log.Warn("notification stream", "user", st.p.UserID, "err", err)
	}
	return nil
}

// look reads the notifications not yet sent, then the unread count.
func (st *stream) look(ctx context.Context) ([]Item, int64, error) {
	items, err := st.s.queryItems(ctx, `SELECT `+itemCols+` FROM notifications n LEFT JOIN r_users u ON u.id = n.actor
		WHERE n.recipient = ? AND n.id > ? ORDER BY n.id LIMIT 200`, st.p.UserID, st.floor)
	if err != nil {
		return nil, 0, err
	}
	fresh := items[:0]
	for _, it := range items {
		if _, done := st.sent[it.id]; !done {
			fresh = append(fresh, it)
		}
	}
	unread, err := st.s.Unread(ctx, st.p.UserID)
	return fresh, unread, err
}

// catchUp sends the notifications that arrived since the last look, then
// the unread count if it changed (or always, on connect).
func (st *stream) catchUp(ctx context.Context, first bool) error {
	fresh, unread, err := st.look(ctx)
	if err != nil {
		return err
	}
	if len(fresh) == 0 && unread > st.unread && !first {
		// The count rose although no new row was seen: a notification
		// committed between the two reads. Look again, so it goes out as
		// a notification event rather than as a bare count.
		if fresh, unread, err = st.look(ctx); err != nil {
			return err
		}
	}
	if len(fresh) > 0 {
		// The principal may have changed since the stream opened (roles,
		// shares): decide links as of now.
		p, err := st.s.access.Principal(ctx, st.p.UserID)
		if err != nil {
			return err
		}
		if err := st.s.linkVisible(ctx, p, fresh); err != nil {
			return err
		}
	}
	now := time.Now()
	for _, it := range fresh {
		if err := st.event("notification", it.ID, map[string]any{"notification": it, "unread": unread}); err != nil {
			return nil // the client is gone; the loop sees ctx end
		}
		st.sent[it.id] = now
	}
	if len(fresh) == 0 && (first || unread != st.unread) {
		if err := st.event("unread", "", map[string]any{"unread": unread}); err != nil {
			return nil
		}
	}
	st.unread = unread
	for id, at := range st.sent {
		if now.Sub(at) > sentWindow {
			st.floor = max(st.floor, id)
			delete(st.sent, id)
		}
	}
	for id := range st.sent {
		if id <= st.floor {
			delete(st.sent, id)
		}
	}
	return st.rc.Flush()
}

// event writes one server-sent event.
func (st *stream) event(name, id string, data any) error {
	b, err := json.Marshal(data)
	if err != nil {
		return err
	}
	if id != "" {
		if _, err := fmt.Fprintf(st.w, "id: %s\n", id); err != nil {
			return err
		}
	}
	_, err = fmt.Fprintf(st.w, "event: %s\ndata: %s\n\n", name, b)
	return err
}

// userActive reports whether the stream's user is still an active user.
func (st *stream) userActive(ctx context.Context) (bool, error) {
	us, err := st.s.recipients(ctx, []int64{st.p.UserID})
	return len(us) == 1, err
}
