// Typed calls of the grading screens (internal/module/grading): the grade
// rules (records) and the recomputation of every account.
import { api } from './client'

export interface GradeRule {
  id: string
  name: string
  grade: 'a' | 'b' | 'c'
  priority: number
  condition: string | null
  payment_terms_days: number | null
  active: boolean
  description?: string | null
}

export const grading = {
  async rules(): Promise<GradeRule[]> {
    return (await api.get<{ items: GradeRule[] }>('/records/grade_rules', { query: { sort: 'priority', per_page: 100 } })).data.items
  },
  async recompute(): Promise<string> {
    return (await api.post<{ job: string }>('/grading/recompute', {})).data.job
  },
  regrade: (account: string) => api.post(`/records/accounts/${encodeURIComponent(account)}/actions/regrade`, {}),
}
