package sales

import (
	"context"
	"strconv"
	"strings"

	"github.com/tenon-crm/tenon/internal/platform/access"
	"github.com/tenon-crm/tenon/internal/platform/records"
)

// deptTree is a department and every department below it.
func (m *Module) deptTree(ctx context.Context, root int64) ([]int64, error) {
	children := map[int64][]int64{}
	err := m.recs.Each(ctx, access.System(), Departments, records.EachOptions{}, func(batch []records.Record) error {
		for _, d := range batch {
			parent, _ := d["parent"].(int64)
			children[parent] = append(children[parent], d.ID())
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := []int64{root}
	seen := map[int64]bool{root: true}
	for i := 0; i < len(out); i++ {
		for _, c := range children[out[i]] {
			if !seen[c] {
				seen[c] = true
				out = append(out, c)
			}
		}
	}
	return out, nil
}

// usersIn lists the users of the departments.
func (m *Module) usersIn(ctx context.Context, depts []int64) ([]int64, error) {
	if len(depts) == 0 {
		return nil, nil
	}
	var out []int64
	err := m.recs.Each(ctx, access.System(), Users, records.EachOptions{ListOptions: records.ListOptions{Filter: "department in [" + joinIDs(depts) + "]"}}, func(batch []records.Record) error {
		for _, u := range batch {
			out = append(out, u.ID())
		}
		return nil
	})
	return out, err
}

// teamUsers are the users of a department and its sub-departments.
func (m *Module) teamUsers(ctx context.Context, dept int64) ([]int64, error) {
	tree, err := m.deptTree(ctx, dept)
	if err != nil {
		return nil, err
	}
	return m.usersIn(ctx, tree)
}

func joinIDs(ids []int64) string {
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = strconv.FormatInt(id, 10)
	}
	return strings.Join(parts, ", ")
}

// ownerFilter narrows a report to a user's or a team's opportunities.
func (m *Module) ownerFilter(ctx context.Context, user, dept int64) (string, error) {
	switch {
	case user > 0:
		return "owner == " + itoa(user), nil
	case dept > 0:
		ids, err := m.teamUsers(ctx, dept)
		if err != nil {
			return "", err
		}
		if len(ids) == 0 {
			return "id == 0", nil
		}
		return "owner in [" + joinIDs(ids) + "]", nil
	}
	return "", nil
}

// and joins filters.
func and(filters ...string) string {
	var parts []string
	for _, f := range filters {
		if strings.TrimSpace(f) != "" {
			parts = append(parts, "("+f+")")
		}
	}
	return strings.Join(parts, " && ")
}
