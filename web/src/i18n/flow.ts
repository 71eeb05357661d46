// UI texts of the flow screens, merged into the app's messages (a top-level
// key of their own, so they never collide with the shell's).
//
// Only what the shell shows on every page is here (the navigation entries):
// this file is part of the initial bundle. The texts of the approval
// screens themselves (designer, inbox, record panel) are in
// components/flow/texts.ts, which every flow component imports and which
// merges them into the same `flow` key when the first of those screens
// loads, so they cost nothing until then.
export default {
  'zh-CN': {
    flow: {
      nav: '我的审批',
      navCount: '我的审批（{n}）',
      defsNav: '审批流程',
      group: '审批',
    },
  },
  en: {
    flow: {
      nav: 'My approvals',
      navCount: 'My approvals ({n})',
      defsNav: 'Approval flows',
      group: 'Approvals',
    },
  },
}
