// UI texts of the automation screens, merged into the app's messages (a top-level
// key of their own, so they never collide with the shell's). Only what the
// app shell shows lives here (the bell, navigation entries); the screens'
// texts are in views/auto/texts.ts, merged when the first of them loads, so
// the initial JavaScript does not carry them.
export default {
  'zh-CN': {
    auto: {
      bell: {
        title: '通知',
        open: '通知，{n} 条未读',
        markAll: '全部已读',
        viewAll: '查看全部通知',
        prefs: '通知设置',
        empty: '暂无通知',
        polling: '实时推送暂不可用，每 30 秒刷新一次',
        burst: '收到 {n} 条新通知',
      },
      nav: {
        tasksGroup: '任务',
        myTasks: '我的任务',
        inbox: '通知',
        rules: '自动化规则',
        email: '邮件设置',
        robots: '群机器人',
        prefs: '通知设置',
      },
    },
  },
  en: {
    auto: {
      bell: {
        title: 'Notifications',
        open: 'Notifications, {n} unread',
        markAll: 'Mark all read',
        viewAll: 'All notifications',
        prefs: 'Notification settings',
        empty: 'No notifications',
        polling: 'Live updates are unavailable; refreshing every 30 s',
        burst: '{n} new notifications',
      },
      nav: {
        tasksGroup: 'Tasks',
        myTasks: 'My tasks',
        inbox: 'Notifications',
        rules: 'Automation rules',
        email: 'E-mail settings',
        robots: 'Group robots',
        prefs: 'Notification settings',
      },
    },
  },
}
