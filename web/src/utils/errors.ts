// One place that turns an error into a message for the user.
import { ElMessage } from 'element-plus'
import { ApiError } from '@/api/client'
import { locale, t } from '@/i18n'
import type { EntityMeta } from '@/api/types'
import { fieldLabel, findField } from './fields'

export function errorText(e: unknown): string {
  if (e instanceof ApiError) {
    if (e.status === 0) return t('common.networkError')
    const fields = Object.values(e.fieldErrors)
    const zh = locale.value === 'zh-CN'
    const base = e.detail && e.detail !== e.title ? `${e.title}${zh ? '：' : ': '}${e.detail}` : e.title
    if (!fields.length) return base
    return zh ? `${base}（${fields.join('；')}）` : `${base} (${fields.join('; ')})`
  }
  if (e instanceof Error) return e.message
  return t('common.unknownError')
}

export function showError(e: unknown): void {
  if (e instanceof DOMException && e.name === 'AbortError') return
  ElMessage({ type: 'error', message: errorText(e), grouping: true, showClose: true })
}

/**
 * problemText is errorText for one record of an entity: a 422 names each
 * field by its label ("原因：必填"), the way a user reads it.
 */
export function problemText(e: unknown, entity?: EntityMeta | null): string {
  if (!(e instanceof ApiError) || !Object.keys(e.fieldErrors).length) return errorText(e)
  const zh = locale.value === 'zh-CN'
  const parts = Object.entries(e.fieldErrors).map(([k, msg]) => {
    const base = k.split(/[[.]/)[0]
    const f = entity ? findField(entity, base) : undefined
    return `${f ? fieldLabel(f) : k}${zh ? '：' : ': '}${msg}`
  })
  return parts.join(zh ? '；' : '; ')
}
