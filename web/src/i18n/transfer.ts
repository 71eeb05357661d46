// UI texts of the transfer part (import, export, webhooks, inbound
// endpoints, the outbound allow-list), merged into the app's messages under
// a top-level key of their own. Only what the shell and the entity screens
// show lives here (navigation, the list's Export menu and Import button,
// entity action results); the import and settings screens' texts are in
// views/transfer/texts.ts, merged when the first of them loads, so the
// initial JavaScript does not carry them.
export default {
  'zh-CN': {
    transfer: {
      nav: {
        imports: '导入记录',
        webhooks: 'Webhook 订阅',
        deliveries: 'Webhook 投递',
        inbound: '入站接口',
        outbound: '外呼白名单',
      },
      list: {
        import: '导入',
        export: '导出',
        exportCsv: 'CSV（Excel 可打开）',
        exportXlsx: 'Excel（.xlsx）',
        exportHint: '导出当前筛选、排序、搜索和列',
      },
      action: {
        done: '已执行“{action}”',
        ok: '“{action}”成功',
        failed: '“{action}”失败',
        failedWhy: '“{action}”失败：{reason}',
      },
    },
  },
  en: {
    transfer: {
      nav: {
        imports: 'Imports',
        webhooks: 'Webhooks',
        deliveries: 'Webhook deliveries',
        inbound: 'Inbound endpoints',
        outbound: 'Outbound allow-list',
      },
      list: {
        import: 'Import',
        export: 'Export',
        exportCsv: 'CSV (opens in Excel)',
        exportXlsx: 'Excel (.xlsx)',
        exportHint: 'Exports the current filter, sort, search and columns',
      },
      action: {
        done: '"{action}" done',
        ok: '"{action}" succeeded',
        failed: '"{action}" failed',
        failedWhy: '"{action}" failed: {reason}',
      },
    },
  },
}

/** Labels of the module the integration entities (webhooks, inbound endpoints) belong to. */
export const transferModules = {
  'zh-CN': { integration: '系统集成' },
  en: { integration: 'Integration' },
}
