// One place that turns an error into a message for the user.
import { ElMessage } from 'element-plus'
import { ApiError } from '@/api/client'
import { locale, t } from '@/i18n'

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
