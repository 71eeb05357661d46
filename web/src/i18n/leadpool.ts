// UI texts of the leadpool module's screens, under the key "leadpool".
const sources = {
  'zh-CN': { web_form: '网站表单', trade_show: '展会', business_card: '名片', referral: '转介绍', dealer: '经销商', cold_call: '陌拜', import: '导入', api: '接口', other: '其他', none: '未填' },
  en: { web_form: 'Web form', trade_show: 'Trade show', business_card: 'Business card', referral: 'Referral', dealer: 'Dealer', cold_call: 'Cold call', import: 'Import', api: 'API', other: 'Other', none: 'None' },
}

export default {
  'zh-CN': {
    leadpool: {
      nav: '线索公海',
      title: '线索公海',
      noPools: '没有你可以使用的公海',
      empty: '公海中没有你可以查看的线索',
      search: '搜索公司、联系人',
      cap: '已领取 {held} / 上限 {cap}',
      recycle: '{days} 天未跟进的线索自动收回',
      claim: '领取',
      claimed: '已领取「{company}」',
      reason: '退回原因',
      returnTitle: '退回公海',
      reasonPlaceholder: '请填写退回原因（必填）',
      reasonRequired: '请填写退回原因',
      return: '退回',
      returned: '线索已退回公海',
      cancel: '取消',
      col: { company: '公司', contact: '联系人', region: '区域', industry: '行业', pooledAt: '进入公海' },
      kpi: { total: '近 30 天线索', valid: '有效线索率', response: '平均首次响应', conversion: '线索转商机率', bySource: '按渠道', minutes: '{n} 分钟' },
      source: sources['zh-CN'],
    },
  },
  en: {
    leadpool: {
      nav: 'Lead pool',
      title: 'Lead pool',
      noPools: 'No pool you may use',
      empty: 'No leads you may see in this pool',
      search: 'Search company, contact',
      cap: 'Claimed {held} / cap {cap}',
      recycle: 'Leads without follow-up for {days} days return here',
      claim: 'Claim',
      claimed: 'Claimed “{company}”',
      reason: 'Return reason',
      returnTitle: 'Return to the pool',
      reasonPlaceholder: 'Why is the lead returned? (required)',
      reasonRequired: 'Give a reason',
      return: 'Return',
      returned: 'The lead is back in the pool',
      cancel: 'Cancel',
      col: { company: 'Company', contact: 'Contact', region: 'Region', industry: 'Industry', pooledAt: 'Pooled' },
      kpi: { total: 'Leads (30 days)', valid: 'Valid-lead rate', response: 'Avg. first response', conversion: 'Lead → opportunity', bySource: 'By channel', minutes: '{n} min' },
      source: sources.en,
    },
  },
}
