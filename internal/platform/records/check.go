package records

import (
	"context"

	"github.com/tenon-crm/tenon/internal/platform/access"
)

// Check reports whether p may perform action (access.Update, access.Delete,
// access.Read…) on the live record id: nil when the role grants the action
// and the record is inside the action's data scope; otherwise the error the
// write itself would give (403 for an action the role lacks, 404 for a
// record that does not exist or is out of scope). It changes nothing, so an
// engine can ask before acting on a record's behalf (submitting it to an
// approval flow needs the right to update it).
func (s *Service) Check(ctx context.Context, p *access.Principal, entity string, id int64, action string) error {
	v, err := s.viewFor(p, entity, action, "t")
	if err != nil {
		return err
	}
	_, err = v.load(ctx, id, false)
	return err
}
