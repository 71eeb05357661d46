// The approvals of the record on the detail screen, shared by the pieces
// the screen mounts (toolbar buttons, the status banner, the Approvals tab):
// its flow instances, whether a flow may be started (the server says: it
// knows which flows apply, which a user who cannot read the definitions
// does not), why the record is locked, and the actions submit and withdraw.
import { computed, reactive, ref, watch, type Ref } from 'vue'
import { ElMessage, ElMessageBox } from 'element-plus'
import { ApiError } from '@/api/client'
import { flows, isOpen, type FlowInstance } from '@/api/flow'
import type { EntityMeta, RecordData } from '@/api/types'
import { useSession } from '@/stores/session'
import { usePendingApprovals } from './pending'
import { showError } from '@/utils/errors'
import { t } from '@/i18n'
import './texts'

export type RecordFlow = ReturnType<typeof useRecordFlow>

/**
 * useRecordFlow follows the approvals of `record`. `changed` is called
 * after an action that may have changed the record itself (an automatic
 * action sets fields; the record's version moves), so the screen reloads it.
 */
export function useRecordFlow(entity: Ref<EntityMeta | null>, record: Ref<RecordData | null>, changed: () => unknown) {
  const session = useSession()
  const pending = usePendingApprovals()
  const instances = ref<FlowInstance[]>([])
  const loading = ref(false)
  const busy = ref(false)
  /** Moves after every change of the approvals, for views that key on it. */
  const seq = ref(0)
  /** The server's answer: the user may submit the record now, and the flow that starts or resumes. */
  const serverCanSubmit = ref(false)
  const submitFlow = ref<{ id: string; name: string } | null>(null)
  let loadSeq = 0

  const me = computed(() => String(session.user?.id ?? ''))
  const current = computed(() => instances.value.find(isOpen) ?? null)
  const isSubmitter = computed(() => !!current.value && current.value.submitter === me.value)
  const live = computed(() => !!record.value && !record.value.deleted_at)

  /** Why the record cannot be edited now ('' when it can), as the server would say it. */
  const lock = computed(() => {
    const c = current.value
    if (!c) return ''
    if (c.status === 'returned') return isSubmitter.value ? '' : t('flow.panel.returned', { flow: c.flow })
    return t('flow.panel.locked', { flow: c.flow })
  })

  const canSubmit = computed(() => live.value && serverCanSubmit.value && !current.value)
  const canResubmit = computed(
    () => live.value && serverCanSubmit.value && current.value?.status === 'returned' && isSubmitter.value,
  )
  const canWithdraw = computed(() => !!current.value && (isSubmitter.value || session.isAdmin))
  /** The user's pending task in the running flow, if any. */
  const myTask = computed(() => current.value?.tasks.find((x) => x.assignee === me.value && x.kind === 'approval' && x.status === 'pending') ?? null)
  /** Show the Approvals tab: the record has approvals, or may be submitted. */
  const visible = computed(() => instances.value.length > 0 || canSubmit.value)

  async function load() {
    const e = entity.value
    const r = record.value
    if (!e || !r) return
    const my = ++loadSeq
    loading.value = true
    try {
      const res = await flows.ofRecord(e.name, r.id)
      if (my !== loadSeq) return
      instances.value = res.items
      serverCanSubmit.value = res.can_submit
      submitFlow.value = res.submit_flow
    } catch (err) {
      // A record the user may no longer read, or no flow engine: nothing to show.
      if (!(err instanceof ApiError && (err.status === 403 || err.status === 404))) showError(err)
      if (my === loadSeq) {
        instances.value = []
        serverCanSubmit.value = false
        submitFlow.value = null
      }
    } finally {
      if (my === loadSeq) loading.value = false
    }
  }

  watch(
    () => [entity.value?.name, record.value?.id] as const,
    ([e, id], old) => {
      if (e && id && (e !== old?.[0] || id !== old?.[1])) {
        instances.value = []
        serverCanSubmit.value = false
        submitFlow.value = null
        void load()
      }
    },
    { immediate: true },
  )

  /** afterChange reloads the approvals and tells the screen and the navigation's count. */
  async function afterChange() {
    seq.value++
    await load()
    void pending.refresh()
    await changed()
  }

  async function submit() {
    const e = entity.value
    const r = record.value
    if (!e || !r || busy.value) return
    const again = canResubmit.value
    try {
      await ElMessageBox.confirm(t(again ? 'flow.panel.resubmitConfirm' : 'flow.panel.submitConfirm', { flow: submitFlow.value?.name ?? '' }), {
        type: 'info',
        confirmButtonText: t(again ? 'flow.panel.resubmit' : 'flow.panel.submit'),
        cancelButtonText: t('common.cancel'),
      })
    } catch {
      return
    }
    busy.value = true
    try {
      const inst = await flows.submit(e.name, r.id)
      ElMessage.success(again ? t('flow.panel.resubmitted') : t('flow.panel.submitted', { flow: inst.flow }))
      await afterChange()
    } catch (err) {
      showError(err)
    } finally {
      busy.value = false
    }
  }

  async function withdraw() {
    const c = current.value
    if (!c || busy.value) return
    let comment = ''
    try {
      const res = await ElMessageBox.prompt(t('flow.panel.withdrawPrompt'), t('flow.panel.withdrawTitle'), {
        confirmButtonText: t('flow.panel.withdraw'),
        cancelButtonText: t('common.cancel'),
        confirmButtonClass: 'el-button--danger',
        inputType: 'textarea',
        inputValidator: (v: string) => [...(v ?? '')].length <= 2000 || t('form.tooLong', { n: 2000 }),
      })
      comment = (res.value ?? '').trim()
    } catch {
      return
    }
    busy.value = true
    try {
      await flows.withdraw(c.id, comment || undefined)
      ElMessage.success(t('flow.panel.withdrawn'))
      await afterChange()
    } catch (err) {
      showError(err)
    } finally {
      busy.value = false
    }
  }

  /** explainLock says why the record cannot be edited (the edit button of a locked record). */
  function explainLock() {
    if (lock.value) ElMessage({ type: 'warning', message: lock.value, grouping: true, showClose: true })
  }

  return reactive({
    instances,
    loading,
    busy,
    seq,
    current,
    submitFlow,
    isSubmitter,
    lock,
    canSubmit,
    canResubmit,
    canWithdraw,
    myTask,
    visible,
    load,
    afterChange,
    submit,
    withdraw,
    explainLock,
  })
}
