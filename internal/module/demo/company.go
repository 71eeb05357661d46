package demo

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/tenon-crm/tenon/internal/platform/access"
	"github.com/tenon-crm/tenon/internal/platform/meta"
	"github.com/tenon-crm/tenon/internal/platform/records"
)

// Sizes of the demo company's business.
const (
	demoAccounts      = 200
	demoLeads         = 1000
	demoOpportunities = 300
	demoActivities    = 1500
	demoBatch         = 250 // records per transaction
)

// The vocabulary the generator draws from.
var (
	cityByRegion = map[string][]string{
		"华东": {"上海", "苏州", "无锡", "常州", "宁波", "杭州", "南京", "合肥"},
		"华南": {"广州", "深圳", "东莞", "佛山", "厦门", "珠海", "中山"},
		"华北": {"北京", "天津", "石家庄", "济南", "青岛", "唐山"},
	}
	firms    = []string{"精工", "恒通", "华光", "东海", "新锐", "宏达", "中联", "永盛", "瑞丰", "金桥", "博远", "天成", "鼎力", "汇川", "德信", "长江", "海达", "明泰", "科隆", "联创"}
	trades   = []string{"机械", "电气", "自动化", "精密制造", "汽车零部件", "电子科技", "化工设备", "食品机械", "新能源", "医疗器械", "建材", "纺织机械"}
	suffixes = []string{"有限公司", "股份有限公司", "集团有限公司"}
	surnames = []string{"王", "李", "张", "刘", "陈", "杨", "黄", "赵", "周", "吴", "徐", "孙", "朱", "马", "胡", "郭", "林", "何", "高", "罗"}
	given    = []string{"伟", "芳", "娜", "敏", "静", "强", "磊", "军", "洋", "勇", "艳", "杰", "涛", "明", "超", "秀英", "建华", "志强", "海燕", "国庆"}
	titles   = []string{"采购经理", "设备部部长", "技术总监", "总经理", "生产厂长", "财务总监", "工艺工程师", "项目经理"}
	roles    = []string{"procurement", "technical", "decision_maker", "finance", "user", "technical"}
	inds     = []string{"machinery", "electronics", "automotive", "chemical", "food", "energy", "medical", "construction", "textile"}
	sources  = []string{"web_form", "trade_show", "business_card", "referral", "dealer", "cold_call", "import", "api"}
	stages   = []string{"requirement", "tech_exchange", "solution", "quotation", "bidding", "negotiation", "contract_review", "won", "lost"}
	kinds    = []string{"call", "visit", "email", "meeting", "tech_exchange", "task_note"}
)

// product is something the company sells, with its product line.
type product struct{ name, line string }

var products = []product{
	{"数控加工中心", "equipment"}, {"激光切割机", "equipment"}, {"注塑成型设备", "equipment"}, {"精密测量系统", "equipment"},
	{"自动化装配线", "automation"}, {"工业机器人工作站", "automation"}, {"智能仓储系统", "automation"},
	{"主轴及关键备件", "parts"}, {"刀具与夹具", "parts"}, {"设备维保服务", "service"}, {"产线改造服务", "service"},
}

// cycleDays is the typical number of days from first contact to a won
// deal by product line; regionPace is how much slower (or faster) a
// region buys.
var (
	cycleDays  = map[string]float64{"equipment": 100, "automation": 140, "parts": 40, "service": 30}
	regionPace = map[string]float64{"华东": 0.85, "华南": 1, "华北": 1.2}
)

// What the activities say.
var (
	subjects = map[string]string{"call": "电话回访", "visit": "上门拜访", "email": "发送方案资料", "meeting": "商务会议",
		"tech_exchange": "技术交流会", "task_note": "跟进记录"}
	outcomes   = []string{"客户有意向，待报价", "确认了技术参数", "客户内部评审中", "约定现场演示", "价格需再沟通", "客户满意，推进合同"}
	nextSteps  = []string{"下周再次跟进", "发送正式报价", "安排技术交流", "邀请参观样板线", "提交合同草案"}
	winReasons = []string{"技术方案领先", "交期有保障", "性价比高", "老客户复购", "服务响应快"}
	dropped    = []string{"预算不足", "暂无采购计划", "联系不上", "已选定其他供应商"}
)

// demoCampaigns are the campaigns, the MK1 three first.
var demoCampaigns = []struct{ name, kind, region, cost, start string }{
	{"上海工博会", "trade_show", "华东", "600000", "-9m"},
	{"区域技术交流会-华东", "seminar", "华东", "150000", "-6m"},
	{"白皮书下载", "white_paper", "", "80000", "-8m"},
	{"深圳机械展", "trade_show", "华南", "450000", "-5m"},
	{"智能制造线上研讨会", "webinar", "", "30000", "-3m"},
	{"行业媒体广告", "ads", "华北", "200000", "-4m"},
}

// Clock is the clock the app was built with (app.Config.Now), which the
// loader moves: every record is written at the moment it happened, so its
// created_at, what the modules' hooks stamp (stage changes, closings, first
// responses, last activities) and its audit trail agree with one another.
type Clock interface {
	Now() time.Time
	Set(t time.Time)
}

// TimeMachine is the Clock of a process that loads the demo: it reads its
// base (real time) until Set, then the time set until Release.
type TimeMachine struct {
	base func() time.Time
	held atomic.Pointer[time.Time]
}

// NewTimeMachine returns a TimeMachine reading base.
func NewTimeMachine(base func() time.Time) *TimeMachine { return &TimeMachine{base: base} }

// Now is the time set, else the base's.
func (m *TimeMachine) Now() time.Time {
	if t := m.held.Load(); t != nil {
		return *t
	}
	return m.base()
}

// Set holds the clock at t.
func (m *TimeMachine) Set(t time.Time) { m.held.Store(&t) }

// Release gives the clock back to its base.
func (m *TimeMachine) Release() { m.held.Store(nil) }

// The demo's calendar, counted back from the moment it is loaded: the
// accounts were entered when the CRM went live a little over a year ago,
// and the year since holds the deals and activities.
const (
	day        = 24 * time.Hour
	liveFrom   = 425 * day // the accounts are entered between liveFrom and liveTo ago
	liveTo     = 370 * day
	yearBack   = 365 * day
	closedBack = 340 * day // deals closed within this, inside the sales-cycle report's default year
	openBack   = 200 * day // open deals were created within this
	freshLeads = 20 * day  // new and assigned leads are younger (the pools recycle at 30 days)
	workedLast = 25 * day  // a lead being worked was last followed up within this
)

// LoadCompany adds the demo business to the demo organisation: campaigns,
// ~200 accounts with contacts, ~1,000 leads across channels and the pools,
// ~300 opportunities across the stages, a year of activities, the lead
// pools and two assignment rules. Each record is written at the moment it
// happened, with clk moved there: the accounts when the CRM went live, a
// deal created before its activities and closed after them, after a sales
// cycle typical of its product line and region. The data is the same on
// every run (a seeded generator) and written in batches of demoBatch
// records per transaction; clk is left at the time it read on entry. It
// does nothing when accounts exist already, so loading twice is harmless;
// it needs the demo organisation (Load).
func LoadCompany(ctx context.Context, recs *records.Service, clk Clock) error {
	for _, e := range []string{"accounts", "contacts", "leads", "opportunities", "activities", "campaigns"} {
		if _, ok := recs.Registry().Get(e); !ok {
			return nil // the modules holding the business are not in this build
		}
	}
	sys := access.System()
	n, err := recs.Count(ctx, sys, "accounts", "")
	if err != nil || n > 0 {
		return err
	}
	start := clk.Now()
	defer clk.Set(start)
	g := &gen{recs: recs, sys: sys, rnd: rand.New(rand.NewPCG(2026, 6)), clk: clk, now: start.UTC().Truncate(time.Minute)}
	if err := g.org(ctx); err != nil {
		return err
	}
	for _, step := range []func(context.Context) error{g.addCampaigns, g.addAccounts, g.addLeads, g.addOpportunities, g.addActivities, g.addPools} {
		if err := step(ctx); err != nil {
			return err
		}
	}
	return nil
}

type gen struct {
	recs *records.Service
	sys  *access.Principal
	rnd  *rand.Rand
	clk  Clock
	now  time.Time // the demo's present

	reps      map[string][]int64 // by region
	campaigns []int64
	campStart []time.Time
	accounts  []acct
	leads     []lead
	acts      int // activities written
}

type acct struct {
	id       int64
	region   string
	owner    int64
	created  time.Time
	contacts []int64
}

type lead struct {
	id      int64
	created time.Time
	status  string
	owner   int64
}

func (g *gen) pick(list []string) string { return list[g.rnd.IntN(len(list))] }

// at moves the clock: what is written next happens at t.
func (g *gen) at(t time.Time) { g.clk.Set(t) }

// between is a random minute from from up to to (from when to is not later).
func (g *gen) between(from, to time.Time) time.Time {
	if !to.After(from) {
		return from
	}
	return from.Add(time.Duration(g.rnd.Int64N(int64(to.Sub(from)))).Truncate(time.Minute))
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func earlier(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// batch writes items in transactions of demoBatch.
func (g *gen) batch(ctx context.Context, n int, fn func(ctx context.Context, i int) error) error {
	for start := 0; start < n; start += demoBatch {
		err := g.recs.DB().WithTx(ctx, func(ctx context.Context) error {
			for i := start; i < min(n, start+demoBatch); i++ {
				if err := fn(ctx, i); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

func (g *gen) create(ctx context.Context, entity string, in map[string]any) (int64, error) {
	r, err := g.recs.Create(ctx, g.sys, entity, in)
	if err != nil {
		return 0, fmt.Errorf("demo %s: %w", entity, err)
	}
	return r.ID(), nil
}

// org finds the reps of each region.
func (g *gen) org(ctx context.Context) error {
	g.reps = map[string][]int64{}
	for region, logins := range map[string][]string{"华东": {"rep.east", "rep.east2"}, "华南": {"rep.south"}, "华北": {"rep.north"}} {
		for _, l := range logins {
			res, err := g.recs.List(ctx, g.sys, "users", records.ListOptions{Filter: fmt.Sprintf("login == %q", l)})
			if err != nil {
				return err
			}
			if len(res.Items) == 1 {
				g.reps[region] = append(g.reps[region], res.Items[0].ID())
			}
		}
		if len(g.reps[region]) == 0 {
			return fmt.Errorf("demo: no rep for %s; load the organisation first", region)
		}
	}
	return nil
}

func (g *gen) region() string { return []string{"华东", "华东", "华南", "华北"}[g.rnd.IntN(4)] }

func (g *gen) company(region string) string {
	return g.pick(cityByRegion[region]) + g.pick(firms) + g.pick(trades) + g.pick(suffixes)
}

func (g *gen) person() string { return g.pick(surnames) + g.pick(given) }

func (g *gen) mobile() string { return fmt.Sprintf("13%d%08d", 5+g.rnd.IntN(5), g.rnd.IntN(100000000)) }

func (g *gen) product() product { return products[g.rnd.IntN(len(products))] }

// cycle is the time from first contact to the close of a deal: typical of
// its product line, slower in some regions, give or take 40%.
func (g *gen) cycle(line, region string) time.Duration {
	days := cycleDays[line] * regionPace[region] * (0.6 + 0.8*g.rnd.Float64())
	return time.Duration(days * float64(day)).Truncate(time.Minute)
}

func monthsAgo(now time.Time, spec string) time.Time {
	var m int
	fmt.Sscanf(spec, "-%dm", &m)
	return now.AddDate(0, -m, 0)
}

func (g *gen) addCampaigns(ctx context.Context) error {
	return g.batch(ctx, len(demoCampaigns), func(ctx context.Context, i int) error {
		c := demoCampaigns[i]
		start := monthsAgo(g.now, c.start)
		on := start.In(meta.Shanghai).Format(time.DateOnly)
		g.at(start.Add(-21 * day)) // planned three weeks ahead
		in := map[string]any{"name": c.name, "kind": c.kind, "cost": c.cost, "budget": c.cost, "started_on": on,
			"ended_on": on, "status": "done"}
		if c.region != "" {
			in["region"] = c.region
		}
		id, err := g.create(ctx, "campaigns", in)
		g.campaigns = append(g.campaigns, id)
		g.campStart = append(g.campStart, start)
		return err
	})
}

func (g *gen) addAccounts(ctx context.Context) error {
	seen := map[string]bool{}
	return g.batch(ctx, demoAccounts, func(ctx context.Context, i int) error {
		region := g.region()
		name := g.company(region)
		for seen[name] {
			name = g.company(region)
		}
		seen[name] = true
		reps := g.reps[region]
		a := acct{region: region, owner: reps[i%len(reps)], created: g.between(g.now.Add(-liveFrom), g.now.Add(-liveTo))}
		in := map[string]any{"name": name, "region": region, "industry": g.pick(inds), "owner": id(a.owner),
			"size": []string{"small", "medium", "large", "enterprise"}[g.rnd.IntN(4)], "source": g.pick(sources),
			"credit_rating": []string{"aaa", "aa", "a", "b"}[g.rnd.IntN(4)], "credit_limit": fmt.Sprint((1 + g.rnd.IntN(20)) * 100000),
			"phone": fmt.Sprintf("0%d-%08d", 21+g.rnd.IntN(8), g.rnd.IntN(100000000))}
		if g.rnd.IntN(3) == 0 {
			in["first_deal_on"] = a.created.AddDate(-1-g.rnd.IntN(6), -g.rnd.IntN(12), 0).Format(time.DateOnly)
		}
		g.at(a.created)
		aid, err := g.create(ctx, "accounts", in)
		if err != nil {
			return err
		}
		a.id = aid
		for k := 0; k < 2+g.rnd.IntN(2); k++ {
			g.at(a.created.Add(time.Duration(k+1) * time.Minute))
			cid, err := g.create(ctx, "contacts", map[string]any{"account": id(aid), "name": g.person(), "title": g.pick(titles),
				"mobile": g.mobile(), "decision_role": roles[k%len(roles)], "influence": []string{"high", "medium", "low"}[g.rnd.IntN(3)],
				"is_primary": k == 0, "owner": id(a.owner)})
			if err != nil {
				return err
			}
			a.contacts = append(a.contacts, cid)
		}
		g.accounts = append(g.accounts, a)
		return nil
	})
}

// addLeads adds the leads, each when it came in: a campaign's in the weeks
// after the campaign, the others over the year. New and assigned leads are
// recent (older ones of a campaign are being worked); a lead being worked
// was followed up within the last weeks, so the pools' recycling (30 days
// without a follow-up) does not sweep the demo on its first run.
func (g *gen) addLeads(ctx context.Context) error {
	statuses := []string{"new", "assigned", "working", "working", "qualified", "disqualified"}
	return g.batch(ctx, demoLeads, func(ctx context.Context, i int) error {
		region := g.region()
		prod := g.product()
		in := map[string]any{"company": g.company(region), "contact_name": g.person(), "title": g.pick(titles),
			"phone": g.mobile(), "industry": g.pick(inds), "product_line": prod.line,
			"source": g.pick(sources), "expected_amount": fmt.Sprint((5 + g.rnd.IntN(200)) * 10000),
			"requirement": "需要" + prod.name + "，计划年内采购"}
		status := g.pick(statuses)
		camp := -1
		switch {
		case i < 120: // MK1: 上海工博会 120 leads
			camp = 0
		case i < 180: // 区域技术交流会-华东 60
			camp, region = 1, "华东"
		case i < 380: // 白皮书下载 200
			camp = 2
		case i < 460:
			camp = 3 + g.rnd.IntN(len(g.campaigns)-3)
		}
		in["region"] = region
		created := g.between(g.now.Add(-yearBack), g.now)
		if camp >= 0 {
			in["campaign"] = id(g.campaigns[camp])
			in["source"] = map[bool]string{true: "trade_show", false: "web_form"}[camp == 0 || camp == 3]
			created = g.between(g.campStart[camp], earlier(g.campStart[camp].Add(45*day), g.now))
		}
		if status == "new" || status == "assigned" {
			if camp >= 0 {
				status = "working"
			} else {
				created = g.between(g.now.Add(-freshLeads), g.now)
			}
		}
		in["status"] = status
		if status == "disqualified" {
			in["disqualify_reason"] = g.pick(dropped)
		}
		l := lead{created: created, status: status}
		if status != "new" || i%3 != 0 {
			reps := g.reps[region]
			l.owner = reps[i%len(reps)]
			in["owner"] = id(l.owner)
		}
		g.at(created)
		lid, err := g.create(ctx, "leads", in)
		if err != nil {
			return err
		}
		l.id = lid
		g.leads = append(g.leads, l)
		// Follow-ups: the last within workedLast for a lead being worked;
		// sometimes one soon after it came in for a lead already decided.
		about := map[string]any{"lead": id(lid), "owner": id(l.owner)}
		switch {
		case status == "working":
			last := g.between(later(created, g.now.Add(-workedLast)), g.now)
			if last.Sub(created) > 3*day && g.rnd.IntN(2) == 0 {
				if err := g.activity(ctx, g.between(created, last), about); err != nil {
					return err
				}
			}
			return g.activity(ctx, last, about)
		case (status == "qualified" || status == "disqualified") && g.rnd.IntN(3) == 0:
			return g.activity(ctx, g.between(created, earlier(created.Add(20*day), g.now)), about)
		}
		return nil
	})
}

// activity logs an activity at t about what about names.
func (g *gen) activity(ctx context.Context, t time.Time, about map[string]any) error {
	kind := kinds[g.rnd.IntN(len(kinds))]
	in := map[string]any{"kind": kind, "subject": subjects[kind], "occurred_at": t.Format(time.RFC3339),
		"duration_minutes": fmt.Sprint(10 + g.rnd.IntN(110)), "outcome": g.pick(outcomes), "next_step": g.pick(nextSteps)}
	for k, v := range about {
		in[k] = v
	}
	g.at(t)
	if _, err := g.create(ctx, "activities", in); err != nil {
		return err
	}
	g.acts++
	return nil
}

// mk1Deals are the MK1 campaigns' deals: opportunities and wins, and the
// amount of each win (480万 over 10, 260万 over 8, 90万 over 4).
var mk1Deals = []struct {
	opps, wins int
	win        int64
}{{35, 10, 480000}, {18, 8, 325000}, {20, 4, 225000}}

// mk1Leads are the MK1 campaigns' leads (addLeads creates them first).
var mk1Leads = []int{120, 60, 200}

// addOpportunities adds the deals as they happened: each is created at an
// early stage (a lost one where it was lost), followed up by activities,
// and then moved on: a closed deal to won or lost after its sales cycle,
// within the past year; an open one to its present stage.
func (g *gen) addOpportunities(ctx context.Context) error {
	// The opportunities of the MK1 campaigns first, then the rest.
	type plan struct {
		camp  int // index in g.campaigns, -1 for none
		stage int // index in stages
		amt   int64
		lead  int // index in g.leads of the lead it was converted from, -1 for none
	}
	const won, lost, open = 7, 8, 7 // stages[won], stages[lost]; stages[:open] are open
	var plans []plan
	firstLead := 0 // the campaigns' leads come first, in order (addLeads)
	for c, d := range mk1Deals {
		for k := 0; k < d.opps; k++ {
			p := plan{camp: c, stage: g.rnd.IntN(open), amt: int64(10+g.rnd.IntN(90)) * 10000, lead: -1}
			if firstLead+k < len(g.leads) {
				p.lead = firstLead + k
			}
			if k < d.wins {
				p.stage, p.amt = won, d.win
			} else if k < d.wins+3 {
				p.stage = lost
			}
			plans = append(plans, p)
		}
		firstLead += mk1Leads[c]
	}
	for len(plans) < demoOpportunities {
		plans = append(plans, plan{camp: -1, stage: g.rnd.IntN(len(stages)), amt: int64(5+g.rnd.IntN(300)) * 10000, lead: -1})
	}
	return g.batch(ctx, len(plans), func(ctx context.Context, i int) error {
		p := plans[i]
		a := g.accounts[g.rnd.IntN(len(g.accounts))]
		prod := g.product()
		closing := p.stage >= won
		from := a.created.Add(day)
		if p.camp >= 0 {
			from = later(from, g.campStart[p.camp].Add(3*day))
		}
		if p.lead >= 0 {
			from = later(from, g.leads[p.lead].created.Add(day))
		}
		var created, closed time.Time
		if closing {
			cycle, latest := g.cycle(prod.line, a.region), g.now.Add(-2*day)
			if from.Add(cycle).After(latest) {
				cycle = latest.Sub(from)
			}
			closed = g.between(later(from.Add(cycle), g.now.Add(-closedBack)), latest)
			created = closed.Add(-cycle)
		} else {
			created = g.between(later(from, g.now.Add(-openBack)), g.now.Add(-time.Hour))
		}
		entry := g.rnd.IntN(3)
		if p.stage == lost {
			entry = g.rnd.IntN(open - 1)
		} else if !closing {
			entry = min(entry, p.stage)
		}
		expected := g.now.AddDate(0, g.rnd.IntN(6)-1, g.rnd.IntN(28))
		if closing {
			expected = closed.AddDate(0, 0, g.rnd.IntN(41)-20)
		}
		in := map[string]any{"name": prod.name + "项目", "account": id(a.id), "contact": id(a.contacts[0]), "stage": stages[entry],
			"amount": fmt.Sprint(p.amt), "product_line": prod.line, "owner": id(a.owner),
			"expected_close": expected.In(meta.Shanghai).Format(time.DateOnly), "next_step": g.pick(nextSteps), "key_deal": p.amt >= 1000000}
		if p.camp >= 0 {
			in["campaign"] = id(g.campaigns[p.camp])
		}
		if p.lead >= 0 {
			in["lead"] = id(g.leads[p.lead].id)
		}
		g.at(created)
		oid, err := g.create(ctx, "opportunities", in)
		if err != nil {
			return err
		}
		if p.lead >= 0 { // the lead it was converted from
			if _, err := g.recs.Update(ctx, g.sys, "leads", g.leads[p.lead].id, map[string]any{"status": "converted",
				"converted_opportunity": id(oid), "converted_account": id(a.id), "converted_at": created}, 0); err != nil {
				return err
			}
		}
		// The follow-ups, the last of a closed deal in its final week.
		end, n := g.now, g.rnd.IntN(4)
		if closing {
			end, n = closed, n+1
		}
		times := make([]time.Time, n)
		for k := range times {
			times[k] = g.between(created, end)
		}
		if closing {
			times[n-1] = g.between(later(created, closed.Add(-6*day)), closed)
		}
		slices.SortFunc(times, time.Time.Compare)
		about := map[string]any{"opportunity": id(oid), "account": id(a.id), "owner": id(a.owner)}
		for _, t := range times {
			about["contact"] = id(a.contacts[g.rnd.IntN(len(a.contacts))])
			if err := g.activity(ctx, t, about); err != nil {
				return err
			}
		}
		move := map[string]any{"stage": stages[p.stage]}
		switch {
		case p.stage == won:
			g.at(closed)
			move["win_reason"] = g.pick(winReasons)
		case p.stage == lost:
			g.at(closed)
			move["loss_reason"] = []string{"price", "technology", "relationship", "delivery"}[g.rnd.IntN(4)]
		case p.stage == entry:
			return nil
		case n > 0: // moved on after the last follow-up
			g.at(earlier(times[n-1].Add(time.Duration(1+g.rnd.IntN(48))*time.Hour), g.now))
		default: // moved on within days
			g.at(earlier(created.Add(time.Duration(1+g.rnd.IntN(240))*time.Hour), g.now))
		}
		_, err = g.recs.Update(ctx, g.sys, "opportunities", oid, move, 0)
		return err
	})
}

// addActivities fills the year with the activities on accounts that are
// about no lead or deal (visits, calls, meetings with customers), up to
// demoActivities in all.
func (g *gen) addActivities(ctx context.Context) error {
	return g.batch(ctx, max(demoActivities-g.acts, 0), func(ctx context.Context, _ int) error {
		a := g.accounts[g.rnd.IntN(len(g.accounts))]
		return g.activity(ctx, g.between(later(a.created, g.now.Add(-yearBack)), g.now),
			map[string]any{"account": id(a.id), "contact": id(a.contacts[g.rnd.IntN(len(a.contacts))]), "owner": id(a.owner)})
	})
}

// pools adds the company-wide pool and one per region, and two assignment
// rules, as they were set up when the CRM went live (written after the
// leads, so the demo's leads keep their owners); some of the unowned new
// leads wait in the company-wide pool.
func (g *gen) addPools(ctx context.Context) error {
	if _, ok := g.recs.Registry().Get("lead_pools"); !ok {
		return nil
	}
	return g.recs.DB().WithTx(ctx, func(ctx context.Context) error {
		g.at(g.now.Add(-liveTo))
		pools := []map[string]any{{"name": "公司公海", "recycle_days": "30", "claim_cap": "20", "active": true}}
		for _, r := range []string{"华东", "华南", "华北"} {
			pools = append(pools, map[string]any{"name": r + "公海", "region": r, "recycle_days": "30", "claim_cap": "20", "active": true})
		}
		var first int64
		for _, p := range pools {
			pid, err := g.create(ctx, "lead_pools", p)
			if err != nil {
				return err
			}
			if first == 0 {
				first = pid
			}
		}
		if _, ok := g.recs.Registry().Get("lead_assignment_rules"); ok {
			for i, r := range []map[string]any{
				{"name": "华东设备线索", "priority": "10", "active": true, "regions": []any{"华东"}, "product_lines": []any{"equipment", "automation"},
					"assignees": []any{id(g.reps["华东"][0]), id(g.reps["华东"][len(g.reps["华东"])-1])}, "method": "round_robin", "follow_up_hours": "24"},
				{"name": "华南全部线索", "priority": "20", "active": true, "regions": []any{"华南"},
					"assignees": []any{id(g.reps["华南"][0])}, "method": "least_loaded", "follow_up_hours": "48"},
			} {
				if _, err := g.create(ctx, "lead_assignment_rules", r); err != nil {
					return fmt.Errorf("rule %d: %w", i, err)
				}
			}
		}
		for i, l := range g.leads {
			if l.owner == 0 && l.status == "new" && i%7 == 0 {
				g.at(earlier(l.created.Add(2*time.Hour), g.now))
				if _, err := g.recs.Update(ctx, g.sys, "leads", l.id, map[string]any{"pool": id(first)}, 0); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// id writes a record id as the API does.
func id(n int64) string { return strconv.FormatInt(n, 10) }
