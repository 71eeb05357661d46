// UI texts of the grading module's screens, under the key "grading".
export default {
  'zh-CN': {
    grading: {
      nav: { rules: '客户分级规则' },
      title: '客户分级规则',
      hint: '按优先级从小到大判断，第一条条件成立的规则决定等级；等级变化时，若账期仍是原等级的默认值则改为新等级的默认账期。每晚自动重算。',
      priority: '优先级', grade: '等级', condition: '条件', always: '（总是成立）', terms: '默认账期（天）', active: '启用',
      edit: '编辑', add: '新建规则', recompute: '立即重算全部客户', queued: '已排队重算（任务 {job}）',
      grades: { a: 'A 战略客户', b: 'B 重点客户', c: 'C 一般客户' },
    },
  },
  en: {
    grading: {
      nav: { rules: 'Grade rules' },
      title: 'Customer grade rules',
      hint: 'Rules are checked by priority, lowest first; the first whose condition holds gives the grade. When the grade changes, payment terms still at the old grade’s default move to the new one. Recomputed nightly.',
      priority: 'Priority', grade: 'Grade', condition: 'Condition', always: '(always)', terms: 'Default terms (days)', active: 'Active',
      edit: 'Edit', add: 'New rule', recompute: 'Recompute every account now', queued: 'Recomputation queued (job {job})',
      grades: { a: 'A Strategic', b: 'B Key', c: 'C Regular' },
    },
  },
}
