package notify

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/tenon-crm/tenon/internal/platform/access"
	"github.com/tenon-crm/tenon/internal/platform/apperr"
	"github.com/tenon-crm/tenon/internal/platform/meta"
	"github.com/tenon-crm/tenon/internal/platform/records"
)

// MaxPage bounds a page of the inbox.
const MaxPage = 100

// Item is one notification as its recipient sees it. Entity and RecordID
// are null unless the recipient may read that record now.
type Item struct {
	ID        string  `json:"id"`
	Kind      string  `json:"kind"`
	Title     string  `json:"title"`
	Body      string  `json:"body"`
	Entity    *string `json:"entity"`
	RecordID  *string `json:"record_id"`
	Actor     *string `json:"actor"`
	ActorName *string `json:"actor_name"`
	CreatedAt string  `json:"created_at"`
	ReadAt    *string `json:"read_at"`
	Read      bool    `json:"read"`

	id     int64
	entity string
	record int64
}

// Page is one page of the inbox, newest first.
type Page struct {
	Items []Item `json:"items"`
	// Unread counts the caller's unread notifications (all of them, not
	// only this page's).
	Unread int64 `json:"unread"`
	// NextBefore continues the list (?before=), null at the end.
	NextBefore *string `json:"next_before"`
}

// ListOptions select a page of the inbox.
type ListOptions struct {
	UnreadOnly bool
	Before     int64 // only notifications with a smaller id (0: from the newest)
	Limit      int   // default 20, at most MaxPage
}

const itemCols = `n.id, n.kind, n.title, n.body, n.entity, n.record_id, n.actor, u.name, n.created_at, n.read_at`

// List returns a page of p's own inbox.
func (s *Service) List(ctx context.Context, p *access.Principal, o ListOptions) (Page, error) {
	if p == nil || p.UserID == 0 {
		return Page{}, apperr.New(apperr.ErrUnauthenticated, "unauthenticated")
	}
	if o.Limit <= 0 {
		o.Limit = 20
	}
	if o.Limit > MaxPage {
		return Page{}, apperr.Invalid("bad_paging", "max", MaxPage)
	}
	q := `SELECT ` + itemCols + ` FROM notifications n LEFT JOIN r_users u ON u.id = n.actor WHERE n.recipient = ?`
	args := []any{p.UserID}
	if o.UnreadOnly {
		q += ` AND n.read_at IS NULL`
	}
	if o.Before > 0 {
		q += ` AND n.id < ?`
		args = append(args, o.Before)
	}
	q += ` ORDER BY n.id DESC LIMIT ?`
	args = append(args, o.Limit+1)
	items, err := s.queryItems(ctx, q, args...)
	if err != nil {
		return Page{}, err
	}
	page := Page{Items: items}
	if len(items) > o.Limit {
		page.Items = items[:o.Limit]
		next := page.Items[o.Limit-1].ID
		page.NextBefore = &next
	}
	if err := s.linkVisible(ctx, p, page.Items); err != nil {
		return Page{}, err
	}
	if page.Unread, err = s.Unread(ctx, p.UserID); err != nil {
		return Page{}, err
	}
	return page, nil
}

func (s *Service) queryItems(ctx context.Context, q string, args ...any) ([]Item, error) {
	rows, err := s.db.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	items := []Item{}
	for rows.Next() {
		var (
			it             Item
			entity, actorN sql.NullString
			record, actor  sql.NullInt64
			read           sql.NullInt64
			created        int64
		)
		if err := rows.Scan(&it.id, &it.Kind, &it.Title, &it.Body, &entity, &record, &actor, &actorN, &created, &read); err != nil {
			return nil, err
		}
		it.ID = strconv.FormatInt(it.id, 10)
		it.entity, it.record = entity.String, record.Int64
		if actor.Valid {
			a := strconv.FormatInt(actor.Int64, 10)
			it.Actor = &a
			if actorN.Valid {
				n := actorN.String
				it.ActorName = &n
			}
		}
		it.CreatedAt = meta.FormatTime(time.UnixMicro(created))
		if read.Valid {
			r := meta.FormatTime(time.UnixMicro(read.Int64))
			it.ReadAt, it.Read = &r, true
		}
		items = append(items, it)
	}
	return items, rows.Err()
}

// linkVisible fills Entity and RecordID of the items whose record p may
// read now: one scoped query per entity, through the records service, so
// the same data scope as everywhere else decides.
func (s *Service) linkVisible(ctx context.Context, p *access.Principal, items []Item) error {
	byEntity := map[string][]int64{}
	for _, it := range items {
		if it.entity != "" && it.record > 0 {
			byEntity[it.entity] = append(byEntity[it.entity], it.record)
		}
	}
	visible := map[string]map[int64]bool{}
	for entity, ids := range byEntity {
		ids = uniqueIDs(ids)
		strs := make([]string, len(ids))
		for i, id := range ids {
			strs[i] = strconv.FormatInt(id, 10)
		}
		res, err := s.records.List(ctx, p, entity, records.ListOptions{Filter: "id in [" + strings.Join(strs, ", ") + "]",
			PerPage: len(ids), Count: records.CountNone})
		if err != nil {
			if _, ok := apperr.As(err); ok { // no such entity (any more), or not readable at all
				continue
			}
			return err
		}
		seen := map[int64]bool{}
		for _, r := range res.Items {
			seen[r.ID()] = true
		}
		visible[entity] = seen
	}
	for i := range items {
		it := &items[i]
		if visible[it.entity][it.record] {
			e, r := it.entity, strconv.FormatInt(it.record, 10)
			it.Entity, it.RecordID = &e, &r
		}
	}
	return nil
}

// Unread counts a user's unread notifications.
func (s *Service) Unread(ctx context.Context, userID int64) (int64, error) {
	var n int64
	err := s.db.QueryRow(ctx, `SELECT COUNT(*) FROM notifications WHERE recipient = ? AND read_at IS NULL`, userID).Scan(&n)
	return n, err
}

// MarkRead marks one of p's notifications read (again is a no-op) and
// returns the new unread count; another user's notification is a 404.
func (s *Service) MarkRead(ctx context.Context, p *access.Principal, id int64) (int64, error) {
	var unread int64
	err := s.db.WithTx(ctx, func(ctx context.Context) error {
		res, err := s.db.Exec(ctx, `UPDATE notifications SET read_at = ? WHERE id = ? AND recipient = ? AND read_at IS NULL`,
			s.now().UnixMicro(), id, p.UserID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			var one int
			err := s.db.QueryRow(ctx, `SELECT 1 FROM notifications WHERE id = ? AND recipient = ?`, id, p.UserID).Scan(&one)
			if isNoRows(err) {
				return apperr.NotFound()
			}
			if err != nil {
				return err
			}
		} else if err := s.wake(ctx, []int64{p.UserID}); err != nil {
			return err
		}
		unread, err = s.Unread(ctx, p.UserID)
		return err
	})
	return unread, err
}

// MarkAllRead marks every unread notification of p read and returns how
// many it marked.
func (s *Service) MarkAllRead(ctx context.Context, p *access.Principal) (int64, error) {
	var marked int64
	err := s.db.WithTx(ctx, func(ctx context.Context) error {
		res, err := s.db.Exec(ctx, `UPDATE notifications SET read_at = ? WHERE recipient = ? AND read_at IS NULL`,
			s.now().UnixMicro(), p.UserID)
		if err != nil {
			return err
		}
		marked, _ = res.RowsAffected()
		if marked > 0 {
			return s.wake(ctx, []int64{p.UserID})
		}
		return nil
	})
	return marked, err
}

func isNoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }
