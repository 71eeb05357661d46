// UI texts of the marketing module's screens, under the key "marketing".
export default {
  'zh-CN': {
    marketing: {
      nav: { roi: '活动 ROI' },
      roi: {
        title: '市场活动投资回报',
        hint: '按活动统计归属的线索、商机、赢单与赢单金额；只计您有权查看的记录。',
        from: '开始于', to: '至', empty: '暂无市场活动',
        name: '活动', cost: '费用', leads: '线索', opportunities: '商机', wins: '赢单', amount: '赢单金额',
        rate: '线索→赢单率', roi: 'ROI', hidden: '—',
      },
    },
  },
  en: {
    marketing: {
      nav: { roi: 'Campaign ROI' },
      roi: {
        title: 'Campaign return on investment',
        hint: 'Leads, opportunities, wins and won amount attributed to each campaign; only records you may read count.',
        from: 'Started from', to: 'to', empty: 'No campaigns',
        name: 'Campaign', cost: 'Cost', leads: 'Leads', opportunities: 'Opportunities', wins: 'Wins', amount: 'Won amount',
        rate: 'Lead → win', roi: 'ROI', hidden: '—',
      },
    },
  },
}
