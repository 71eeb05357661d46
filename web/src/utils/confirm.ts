// The questions the app asks before it does something that cannot be
// undone, in one form: a warning box whose confirm button is red.
import { ElMessage, ElMessageBox } from 'element-plus'
import { records } from '@/api/endpoints'
import type { RecordData } from '@/api/types'
import { showError } from './errors'
import { t } from '@/i18n'

/** confirmDanger asks `message`; true when the user confirms, false when they cancel or close the box. */
export async function confirmDanger(message: string, confirmText = t('common.delete')): Promise<boolean> {
  try {
    await ElMessageBox.confirm(message, {
      type: 'warning',
      confirmButtonText: confirmText,
      cancelButtonText: t('common.cancel'),
      confirmButtonClass: 'el-button--danger',
    })
    return true
  } catch {
    return false
  }
}

/** confirmLeave asks whether to leave a screen with unsaved edits. */
export async function confirmLeave(): Promise<boolean> {
  try {
    await ElMessageBox.confirm(t('form.leaveConfirm'), { type: 'warning', confirmButtonText: t('common.confirm'), cancelButtonText: t('common.cancel') })
    return true
  } catch {
    return false
  }
}

/**
 * deleteRecord asks `message`, then deletes the record (If-Match on its
 * version) and says so. True when it is gone; a failure has been shown.
 */
export async function deleteRecord(entity: string, rec: RecordData, message: string): Promise<boolean> {
  if (!(await confirmDanger(message))) return false
  try {
    await records.remove(entity, rec.id, rec.version)
    ElMessage.success(t('detail.deletedOk'))
    return true
  } catch (e) {
    showError(e)
    return false
  }
}
