// UI texts of the crm module's screens, under the key "crm".
export default {
  'zh-CN': {
    crm: {
      nav: {
        card: '名片录入',
        checkin: '拜访签到',
        accounts360: '客户 360°',
        transfer: '离职交接',
        newLead: '新建线索',
        leads: '线索',
        accounts: '客户',
        contacts: '联系人',
        activities: '活动记录',
        webForms: '网页表单',
      },
      common: {
        save: '保存', cancel: '取消', back: '返回', loading: '加载中…', none: '无', open: '打开', details: '完整资料',
        company: '公司名称', contactName: '姓名', phone: '电话', email: '邮箱', region: '区域', saved: '已保存',
      },
      dup: {
        title: '发现可能重复的记录', hint: '以下记录与填写的公司名称、电话或邮箱相同。可以打开查看，或仍然保存。',
        hintForm: '以下记录与填写的公司名称、电话或邮箱相同，可以先打开查看；确认不是同一家再保存。',
        saveAnyway: '仍然保存', stop: '返回修改', checking: '正在查重…', merge: '合并这些线索',
        match: { company: '公司名称相同', phone: '电话相同', email: '邮箱相同' },
        entity: { leads: '线索', accounts: '客户' },
      },
      card: {
        title: '名片录入', subtitle: '拍下名片，补全几项信息即可生成线索', photo: '拍名片 / 选照片', retake: '重拍',
        uploading: '正在上传…', created: '线索已创建', another: '再录一张', openLead: '查看线索', required: '请填写公司名称',
      },
      lead: { title: '新建线索', source: '来源', requirement: '需求描述', created: '线索已创建' },
      checkin: {
        title: '拜访签到', about: '拜访对象', subject: '主题', subjectDefault: '拜访', locate: '获取定位', locating: '定位中…',
        located: '已定位（精度约 {m} 米）', noGeo: '无法获取定位，请填写地址', address: '地点 / 地址', photos: '现场照片',
        addPhoto: '拍照 / 选照片', notes: '拜访记录', nextStep: '下一步', submit: '签到并保存', done: '签到成功', missing: '缺少拜访对象（客户、线索或商机）',
      },
      merge: {
        title: '合并线索', winner: '保留', pick: '选择要合并进来的线索', noCandidates: '没有找到可合并的重复线索',
        field: '字段', confirm: '合并 {n} 条线索到所选的保留线索？被合并的线索将移入回收站。', done: '已合并', submit: '合并',
      },
      transfer: {
        title: '离职交接', hint: '把离职（或调岗）员工名下的客户、线索和进行中的商机转给另一位同事。每次变更都记入历史。',
        from: '移交人', to: '接收人', entities: '移交内容', submit: '开始移交', confirm: '确定把 {from} 的记录转给 {to}？', result: '已移交：{text}',
        entity: { accounts: '客户', leads: '线索', opportunities: '进行中的商机' },
      },
      overview: {
        title: '客户 360°', pick: '搜索客户', chain: '决策链', noRole: '未设置角色', opportunities: '进行中的商机', timeline: '时间线',
        credit: '信用', files: '文件', counts: '概况', contacts: '联系人', activities: '活动', history: '变更', checkin: '拜访签到',
        logActivity: '记录活动', noCredit: '无权查看信用数据', empty: '暂无',
        action: { create: '创建', update: '修改', delete: '删除', restore: '恢复' },
        count: { contacts: '联系人', open_opportunities: '商机', activities: '活动' },
      },
      ext: {
        view360: '客户 360°', embed: '嵌入代码', merge: '查重合并', convert: '转化', convertTitle: '转化线索：{name}',
        convertHint: '生成客户和联系人（已有同名客户时直接关联），可同时创建商机。', withOpportunity: '同时创建商机',
        oppName: '商机名称', amount: '金额', expectedClose: '预计成交日期', converted: '线索已转化',
        accountMade: '转化完成，已新建客户：', accountReused: '转化完成，已关联到现有的同名客户：', contact: '联系人', opportunity: '商机',
      },
      webform: {
        title: '嵌入网页表单', script: '脚本方式（推荐）', html: '纯 HTML 表单', copy: '复制', copied: '已复制', endpoint: '提交地址',
        hint: '把下面的代码粘贴到官网页面中。隐藏字段 website_url 用于拦截机器人，请保留。',
      },
    },
  },
  en: {
    crm: {
      nav: {
        card: 'Business card',
        checkin: 'Visit check-in',
        accounts360: 'Account 360°',
        transfer: 'Hand-over',
        newLead: 'New lead',
        leads: 'Leads',
        accounts: 'Accounts',
        contacts: 'Contacts',
        activities: 'Activities',
        webForms: 'Web forms',
      },
      common: {
        save: 'Save', cancel: 'Cancel', back: 'Back', loading: 'Loading…', none: 'None', open: 'Open', details: 'Full record',
        company: 'Company', contactName: 'Name', phone: 'Phone', email: 'E-mail', region: 'Region', saved: 'Saved',
      },
      dup: {
        title: 'Possible duplicates', hint: 'These records share the company name, phone or e-mail entered. Open them, or save anyway.',
        hintForm: 'These records share the company name, phone or e-mail entered. Open them to check before saving.',
        saveAnyway: 'Save anyway', stop: 'Go back', checking: 'Checking for duplicates…', merge: 'Merge these leads',
        match: { company: 'same company', phone: 'same phone', email: 'same e-mail' },
        entity: { leads: 'Lead', accounts: 'Account' },
      },
      card: {
        title: 'Business card', subtitle: 'Take a photo of the card and complete a few fields to create a lead', photo: 'Take / choose a photo',
        retake: 'Retake', uploading: 'Uploading…', created: 'Lead created', another: 'Next card', openLead: 'Open the lead',
        required: 'Enter the company',
      },
      lead: { title: 'New lead', source: 'Source', requirement: 'Requirement', created: 'Lead created' },
      checkin: {
        title: 'Visit check-in', about: 'Visiting', subject: 'Subject', subjectDefault: 'Visit', locate: 'Get location', locating: 'Locating…',
        located: 'Located (about {m} m)', noGeo: 'No location available; enter the address', address: 'Place / address', photos: 'Photos',
        addPhoto: 'Take / choose photos', notes: 'Notes', nextStep: 'Next step', submit: 'Check in and save', done: 'Checked in',
        missing: 'Nothing to visit was given (account, lead or opportunity)',
      },
      merge: {
        title: 'Merge leads', winner: 'Keep', pick: 'Choose the leads to merge in', noCandidates: 'No duplicate leads found to merge',
        field: 'Field', confirm: 'Merge {n} lead(s) into the lead kept? The merged leads go to the recycle bin.', done: 'Merged', submit: 'Merge',
      },
      transfer: {
        title: 'Hand-over', hint: "Move a leaving (or moving) colleague's accounts, leads and open opportunities to another user. Every change is kept in the history.",
        from: 'From', to: 'To', entities: 'What to move', submit: 'Transfer', confirm: "Move {from}'s records to {to}?", result: 'Moved: {text}',
        entity: { accounts: 'Accounts', leads: 'Leads', opportunities: 'Open opportunities' },
      },
      overview: {
        title: 'Account 360°', pick: 'Find an account', chain: 'Decision chain', noRole: 'No role set', opportunities: 'Open opportunities',
        timeline: 'Timeline', credit: 'Credit', files: 'Files', counts: 'At a glance', contacts: 'Contacts', activities: 'Activities',
        history: 'Changes', checkin: 'Check in', logActivity: 'Log an activity', noCredit: 'You may not see credit data', empty: 'Nothing yet',
        action: { create: 'Created', update: 'Changed', delete: 'Deleted', restore: 'Restored' },
        count: { contacts: 'Contacts', open_opportunities: 'Opportunities', activities: 'Activities' },
      },
      ext: {
        view360: '360° view', embed: 'Embed code', merge: 'Find & merge duplicates', convert: 'Convert', convertTitle: 'Convert the lead: {name}',
        convertHint: 'Makes the account and the contact (an existing account of the same name is used instead), and optionally an opportunity.',
        withOpportunity: 'Also create an opportunity', oppName: 'Opportunity name', amount: 'Amount', expectedClose: 'Expected close',
        converted: 'Lead converted', accountMade: 'Converted; a new account was made:', accountReused: 'Converted; linked to the existing account of the same name:',
        contact: 'Contact', opportunity: 'Opportunity',
      },
      webform: {
        title: 'Embed the web form', script: 'Script (recommended)', html: 'Plain HTML form', copy: 'Copy', copied: 'Copied', endpoint: 'Endpoint',
        hint: 'Paste this code into your website. Keep the hidden website_url field: it catches robots.',
      },
    },
  },
}
