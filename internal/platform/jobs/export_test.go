package jobs

import "context"

// ClaimForTest claims up to n due jobs as a worker would, without running
// them: a worker that "dies" after its claim.
func (q *Queue) ClaimForTest(ctx context.Context, n int) ([]Job, error) {
	js, err := q.claim(ctx, n)
	out := make([]Job, len(js))
	for i, j := range js {
		out[i] = *j
	}
	return out, err
}

// ExecuteForTest runs a job returned by ClaimForTest, as its worker would.
func (q *Queue) ExecuteForTest(ctx context.Context, j Job) { q.execute(ctx, &j) }
