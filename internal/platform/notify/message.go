package notify

// Message is one notification to users. Send stores it in each recipient's
// in-app inbox and, by each recipient's preferences for its Kind, queues
// its e-mail; the other engines (approval flows, rules, tasks) build
// messages and call Send inside their own transaction.
type Message struct {
	// Kind is the event kind, e.g. "approval.pending", "approval.done",
	// "approval.cc", "approval.reminder", "task.assigned", "task.due",
	// "rule" — preferences are kept per kind (see the package doc and
	// RegisterKind).
	Kind string
	// To are the recipients' user ids (duplicates and inactive users are
	// dropped).
	To []int64
	// Title and Body are plain text as the sender wrote it (rules), or,
	// when Code is set, rendered per recipient's language from the i18n
	// message Code with Args (the engines' own messages): the title from
	// Code, the body from Code+".body" when the catalog has it, otherwise
	// Body as given.
	Title, Body string
	Code        string
	Args        map[string]any
	// Entity and RecordID name the record the message is about (optional);
	// the inbox links to it and only recipients who may read it see the
	// link.
	Entity   string
	RecordID int64
	// Actor is the user whose action caused the message (0: the system).
	Actor int64
	// Channels narrows delivery to some of ChannelInApp and ChannelEmail
	// (a rule that only wants e-mail, say). Nil means every channel. Each
	// recipient's preferences still apply on top.
	Channels []string
}

// The per-user delivery channels of a Message.
const (
	ChannelInApp = "in_app"
	ChannelEmail = "email"
)

// RobotMessage is a message to a group robot (DingTalk, WeCom, Feishu).
type RobotMessage struct {
	Title string
	Text  string // plain text or Markdown, as the channel supports
	// Markdown sends Text as DingTalk/WeCom markdown and as a Feishu rich
	// text ("post") message; otherwise every robot gets plain text.
	Markdown bool
	// URL is an optional link appended to the message (a record's page).
	URL string
}
