/** The console's plumbing: building elements, talking to the API, words in two languages. */

type Child = Node | string | number | null | undefined | false;
type Attributes = Record<string, string | number | boolean | EventListener | undefined>;

/** `h('button', { onclick }, 'Save')`: an element with attributes, listeners and children. */
export function h(tag: string, attributes: Attributes = {}, ...children: (Child | Child[])[]): HTMLElement {
    const element = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes)) {
        if (value === undefined || value === false) {
            continue;
        }
        if (typeof value === 'function') {
            element.addEventListener(name.replace(/^on/, ''), value);
        } else {
            element.setAttribute(name, value === true ? '' : String(value));
        }
    }
    for (const child of children.flat()) {
        if (child !== null && child !== undefined && child !== false) {
            element.append(child instanceof Node ? child : String(child));
        }
    }
    return element;
}

export type Language = 'en' | 'zh';

const WORDS: Readonly<Record<string, readonly [string, string]>> = {
    title: ['Counterfoil', '存根 · 跨部门单证核验'],
    signIn: ['Sign in', '登录'], token: ['Bearer token', '访问令牌'], signOut: ['Sign out', '退出'], personas: ['Sign in as', '以下列身份登录'],
    overview: ['Overview', '总览'], unconfirmed: ['Unconfirmed transfers', '未确认传递'], cases: ['Cases', '争议案件'], trace: ['Trace', '数据流向'],
    verify: ['Verify a permit', '许可证核验'], audit: ['Audit', '审计'],
    ledger: ['Ledger', '账本'], embeddedLedger: ['Embedded ledger (one node)', '内嵌账本（单节点）'], height: ['Height', '高度'], validator: ['Validator', '验证节点'],
    inStep: ['In step', '同步'], yes: ['yes', '是'], no: ['no', '否'],
    handoffs: ['Handoffs', '传递'], confirmed: ['Confirmed', '已确认'], overdue: ['Overdue', '逾期'], openCases: ['Open cases', '未结案件'],
    confirmationRate: ['Confirmation rate', '确认率'], lag: ['Lag (median / max, s)', '时延（中位/最大，秒）'], sender: ['Sender', '发送方'],
    recipient: ['Recipient', '接收方'], status: ['Status', '状态'], perMinute: ['Handoffs sent per minute (last hour)', '每分钟发送传递数（近一小时）'],
    adapters: ['Adapters', '适配器'], adapter: ['Adapter', '适配器'], lastSuccess: ['Last success', '最近成功'], errors: ['Errors', '错误'],
    quarantined: ['Quarantined', '隔离'], parked: ['Waiting', '等待'], class: ['Class', '类别'], age: ['Age', '时长'], subject: ['Enterprise', '企业'],
    message: ['Message', '报文'], deadline: ['Deadline', '期限'], any: ['(any)', '（全部）'], overdueOnly: ['Overdue only', '仅逾期'],
    filter: ['Filter', '筛选'], olderThan: ['Older than', '超过'], openCase: ['Open a case', '立案'], retransmit: ['Retransmit', '重新发送'], resolve: ['Resolve', '结案'],
    reason: ['Reason', '原因'], caseSubject: ['Concerning', '涉及'], parties: ['Parties', '当事方'], outcome: ['Outcome', '结果'], messages: ['Messages', '消息'],
    declaration: ['Declaration number', '报关单号'], uscc: ['USCC', '统一社会信用代码'], search: ['Search', '查询'], proof: ['Proof (PDF)', '凭证（PDF）'],
    documents: ['Documents', '单证'], verifications: ['Verifications', '核验'], timeline: ['Timeline per agency', '各部门时间线'],
    permit: ['Licence number', '许可证号'], hsCode: ['HS code', '商品编码'], quantity: ['Quantity', '数量'], unit: ['Unit', '单位'], port: ['Port', '口岸'],
    holder: ['Holder (USCC)', '持证企业'], addLine: ['Add a goods line', '增加商品行'], verdict: ['Verdict', '核验结论'], balance: ['Balance', '余量'],
    usesRemaining: ['Uses remaining', '剩余次数'], licensed: ['Licensed', '许可数量'], drawn: ['Drawn', '已核销'], remaining: ['Remaining', '剩余'],
    replay: ['Replay the ledger from block 0', '从创世区块重放账本'], toBlock: ['To block (optional)', '截至区块（可选）'], progress: ['Progress', '进度'],
    report: ['Report', '报告'], downloadPdf: ['Download the PDF', '下载 PDF'], lastBlockHash: ['Last block hash', '最后区块哈希'],
    live: ['live', '实时'], nothing: ['Nothing here.', '暂无内容。'], failed: ['Failed', '失败'], language: ['中文', 'English'],
    chainBroken: ['The ledger\'s hash chain does not verify from block 0: the hub takes no writes until the stored blocks are restored.', '账本哈希链自创世区块起校验失败：在恢复存储的区块之前，枢纽不接受任何写入。'],
    export: ['Export', '导出'], dataset: ['Data', '数据'], fromDay: ['From (day)', '起始日期'], toDay: ['To (day, included)', '截止日期（含）'],
    format: ['Format', '格式'], download: ['Download', '下载'], downloaded: ['Downloaded', '已下载'],
    exportNote: ['Enterprises export their own data, agencies what they may list, auditors everything. Text a spreadsheet would run as a formula starts with an apostrophe.',
        '企业可导出本企业数据，部门可导出其有权查看的数据，审计人员可导出全部数据。可能被电子表格当作公式执行的文本以撇号开头。'],
    import: ['Import', '导入'], importFile: ['File (CSV or Excel .xlsx)', '文件（CSV 或 Excel .xlsx）'], mode: ['Mode', '方式'],
    modeCheck: ['Check only (nothing is written)', '仅检查（不写入账本）'], modeSubmit: ['Check and issue the good rows', '检查并签发无误的行'],
    charset: ['CSV character set', 'CSV 字符集'], upload: ['Upload', '上传'], template: ['Template', '模板'], file: ['File', '文件'], started: ['Started', '开始时间'],
    rows: ['rows', '行'], ofDocuments: ['documents', '份单证'], results: ['Results', '结果'], resultsFile: ['Per-row results', '逐行结果'], submitGood: ['Issue the good rows', '签发无误的行'],
    importNote: ['One row per goods line; a document\'s further rows may leave its own columns blank. Each document is issued once: a file imported again changes nothing.',
        '每个商品行一行；同一单证的后续行可不填单证栏目。每份单证只签发一次：重复导入同一文件不会改变任何内容。'],
    PENDING: ['pending', '待处理'], INVALID: ['invalid', '有误'], VALID: ['valid', '可导入'], CREATED: ['issued', '已签发'], UNCHANGED: ['unchanged', '未变'], CONFLICT: ['conflict', '冲突'],
    READING: ['reading', '读取中'], CHECKING: ['checking', '检查中'], SUBMITTING: ['issuing', '签发中'], DONE: ['done', '完成'], FAILED: ['failed', '失败'], INTERRUPTED: ['interrupted', '已中断'],
    check: ['check', '检查'], submit: ['issue', '签发'],
    unread: ['Unread', '未读'], new: ['new', '新'], notVerified: ['does not match the ledger\'s digest', '与账本摘要不符'],
    threadComplete: ['Every message on the ledger is here, unaltered', '账本上的每条消息均在此且未被改动'],
    threadIncomplete: ['Messages the ledger has are missing or altered here', '账本上的消息在此缺失或被改动'],
    writeMessage: ['Message', '消息'], attach: ['Attach files (PDF or images)', '附件（PDF 或图片）'], send: ['Send', '发送'],
    declarationThread: ['Messages about this declaration', '关于此报关单的消息'],
    notifications: ['Notifications', '通知'], emailAddress: ['E-mail address', '电子邮箱'], mailLanguage: ['Language of the mails', '邮件语言'],
    topics: ['Tell me by e-mail when', '以下情况发邮件通知我'], save: ['Save', '保存'], unsubscribe: ['Stop all e-mail', '停止所有邮件'],
    mailsSent: ['Mails', '邮件记录'], attempts: ['Attempts', '尝试次数'], mailSubject: ['Subject', '主题'], when: ['When', '时间'],
    blocks: ['Blocks', '区块'], signatures: ['Signatures', '签名'], checkedFailed: ['checked / failed', '已校验 / 失败'], validInvalid: ['valid / invalid', '有效 / 无效'],
    charts: ['Charts', '图表'], timelineAcross: ['The declaration\'s handoffs across agencies', '报关单数据在各部门间的传递时间线'], confirmedShare: ['handoffs confirmed by the recipient', '接收方已确认的传递占比'], time: ['Time', '时间'], handoffsPerMinute: ['handoffs / min', '传递数 / 分钟'], confirmationByPair: ['Confirmation rate per agency pair', '各部门间确认率'],
    overdueByHour: ['Overdue now, by the hour the deadline passed (last 24 h)', '当前逾期传递（按期限所在小时，近 24 小时）'], deadlineHour: ['Deadline', '期限'], handoffsOverdue: ['handoffs overdue', '逾期传递数'],
    minAgeSeconds: ['Older than (s)', '超过（秒）'], favourites: ['Favourites', '收藏夹'], noFavourites: ['none yet', '暂无'], pin: ['Pin this page', '收藏此页'], unpin: ['Remove', '移除'],
    handoff: ['Handoff', '传递'], declarations: ['Declarations', '报关单'], issuedAt: ['Issued', '签发时间'], morePages: ['More of the list', '翻页'], firstPage: ['First page', '首页'], nextPage: ['Next page', '下一页'],
    documentType: ['Type', '单证类型'], number: ['Number', '编号'], issuer: ['Issuer', '签发机构'],
    notificationsNote: ['Several notifications close together come as one mail. Mails are retried when the mail server does not take them.', '短时间内的多条通知合并为一封邮件发送；邮件服务器未接收时会自动重试。'],
    CASE_OPENED: ['a case is opened that concerns me', '有涉及我方的案件立案'], CASE_RESOLVED: ['a case of mine is resolved', '我方案件结案'],
    MESSAGE_RECEIVED: ['a message arrives in one of my threads', '我方消息线程收到新消息'], HANDOFF_REJECTED: ['a transfer concerning me is rejected', '涉及我方的传递被拒收'],
    HANDOFF_OVERDUE: ['a transfer concerning me passes its deadline', '涉及我方的传递超过期限'], PERMIT_EXHAUSTED: ['a permit is used up', '许可证件已用尽'],
    DOCUMENT_REVOKED: ['a document is revoked', '单证被撤销'],
    mailPENDING: ['waiting', '待发送'], mailSENT: ['sent', '已发送'], mailDEAD: ['given up', '已放弃'],
    signedInAs: ['Signed in as', '当前身份'], notAllowed: ['Your role cannot see this page.', '当前身份无权查看此页面。'],
    foreign: ['Foreign certificates', '境外证书'], authorities: ['Foreign issuing authorities', '境外签证机构'], authority: ['Authority', '签证机构'],
    foreignNote: ['Certificates of origin and phytosanitary certificates signed by foreign authorities (XML-DSig). Each signature is checked against the signing certificates on file; one that does not match opens a case with the consignee and the authority, which is told by e-mail.',
        '境外机构签发的原产地证书和植物检疫证书（XML 数字签名）。每个签名均与备案的签名证书比对；不符时与收货企业及该机构立案，并以电子邮件通知该机构。'],
    receiveCertificate: ['Receive a signed certificate', '接收已签名证书'], signedXml: ['Signed XML file', '已签名的 XML 文件'], receivedCertificates: ['Certificates received', '已接收证书'],
    kind: ['Kind', '证书种类'], findings: ['Findings', '比对结果'], expected: ['Expected', '应为'], found: ['Found', '实为'], country: ['Country', '国家或地区'],
    contact: ['Contact', '联系邮箱'], version: ['version', '版本'], signer: ['Signing certificate', '签名证书'], acceptedFrom: ['Accepted from', '认可起始'],
    acceptedTo: ['Accepted until', '认可截止'], retired: ['Retired', '停用'], retire: ['Retire', '停用'], signingCertificate: ['Signing certificate (PEM)', '签名证书（PEM）'],
    addSigner: ['Put on file', '备案'], registerAuthority: ['Register an authority', '登记签证机构'], name: ['Name', '名称'], register: ['Register', '登记'],
};

/** The ledger's codes as each language says them: agencies, statuses, reasons, roles, document types, steps. */
const CODES: Readonly<Record<string, Readonly<Record<string, readonly [string, string]>>>> = {
    agency: {
        CustomsMSP: ['Customs', '海关'], CommerceMSP: ['Commerce', '商务'], TaxMSP: ['Tax', '税务'], ForexMSP: ['Forex', '外汇'], InspectionMSP: ['Inspection', '检验检疫'],
        EnterprisesMSP: ['Enterprises', '企业'],
    },
    status: {
        SENT: ['sent', '已发送'], RECEIVED: ['received', '已接收'], ACCEPTED: ['accepted', '已受理'], REJECTED: ['rejected', '已拒收'], MISMATCH: ['content mismatch', '内容不符'],
        CANCELLED: ['cancelled', '已撤回'], NOT_ON_LEDGER: ['not on the ledger', '未上链'], ACTIVE: ['active', '有效'], AMENDED: ['amended', '已变更'], REVOKED: ['revoked', '已撤销'],
        EXHAUSTED: ['used up', '已用尽'], EXPIRED: ['expired', '已过期'], OPEN: ['open', '处理中'], RESOLVED: ['resolved', '已结案'], WITHDRAWN: ['withdrawn', '已撤回'],
        RUNNING: ['running', '进行中'], DONE: ['done', '完成'], FAILED: ['failed', '失败'], INTERRUPTED: ['interrupted', '已中断'],
    },
    step: {
        HandoffSent: ['sent', '发送'], HandoffReceived: ['received', '接收'], HandoffMismatch: ['content mismatch', '内容不符'], HandoffAccepted: ['accepted', '受理'],
        HandoffRejected: ['rejected', '拒收'], HandoffRetransmitted: ['retransmitted', '重新发送'], HandoffCancelled: ['cancelled', '撤回'],
        SENT: ['sent', '发送'], RECEIVED: ['received', '接收'], ACCEPTED: ['accepted', '受理'], REJECTED: ['rejected', '拒收'], MISMATCH: ['content mismatch', '内容不符'],
        RETRANSMITTED: ['retransmitted', '重新发送'], CANCELLED: ['cancelled', '撤回'],
    },
    class: {
        NOT_DELIVERED: ['not delivered', '未送达'], NOT_ACKNOWLEDGED: ['not acknowledged', '未处理'], CONTENT_MISMATCH: ['content mismatch', '内容不符'], REJECTED: ['rejected', '已拒收'],
        NEVER_RECORDED: ['never recorded', '未上链'], RECIPIENT_ONLY: ['recipient only', '仅接收方有记录'],
    },
    reason: {
        NOT_RECEIVED: ['not received', '未收到'], CONTENT_MISMATCH: ['content mismatch', '内容不符'], SIGNATURE_MISMATCH: ['signature mismatch', '签名不符'],
        DATA_ERROR: ['data error', '数据错误'], OTHER: ['other', '其他'],
    },
    role: { operator: ['operator', '经办人'], admin: ['administrator', '管理员'], auditor: ['auditor', '审计员'], reconciler: ['reconciliation', '对账'], enterprise: ['enterprise', '企业'] },
    type: { LICENCE: ['licence', '许可证'], ORIGIN_CERT: ['certificate of origin', '原产地证书'], INSPECTION_CERT: ['inspection certificate', '检验检疫证书'], EXPORT_DECLARATION: ['export declaration', '出口报关单'] },
    verdict: {
        VALID: ['valid', '核验通过'], INVALID: ['refused', '核验不通过'], CLEAN: ['clean', '无异常'], PROBLEMS: ['problems found', '发现问题'],
        VERIFIED: ['verified', '签名相符'], MISMATCH: ['signature mismatch', '签名不符'],
    },
    kind: { ORIGIN: ['certificate of origin', '原产地证书'], PHYTOSANITARY: ['phytosanitary certificate', '植物检疫证书'] },
    finding: {
        SIGNATURE_INVALID: ['signature does not verify', '签名验证失败'], SIGNER_NOT_ON_FILE: ['signer not on file', '签名证书未备案'],
        SIGNER_NOT_VALID_AT_SIGNING: ['signer not valid when it signed', '签名时签名证书不在认可期内'], SIGNER_RETIRED: ['signer retired', '签名证书已停用'],
        SIGNED_IN_FUTURE: ['signed in the future', '签名时间晚于接收时间'],
    },
};

export class Words {
    constructor(public language: Language) {}

    t(key: string): string {
        const entry = WORDS[key];
        return entry ? entry[this.language === 'en' ? 0 : 1] : key;
    }

    /** A code of the ledger's (`status`, `ACCEPTED`) in the reader's language, or the code itself when it has no name. */
    code(kind: string, value: string): string {
        const entry = CODES[kind]?.[value];
        // English shows the ledger's own codes (OPEN, ACCEPTED), as the API and the exports do; agencies go by their names.
        if (!entry || (this.language === 'en' && kind !== 'agency')) {
            return value;
        }
        return entry[this.language === 'en' ? 0 : 1];
    }

    /** A party: an agency by its name, an enterprise by its USCC. */
    party(id: string): string {
        return this.code('agency', id);
    }

    /** A date and time as the reader's language writes it (day first in English, year first in Chinese). */
    time(iso: string): string {
        return new Date(iso).toLocaleString(this.language === 'zh' ? 'zh-CN' : 'en-GB');
    }
}

/** What the console knows of who is signed in (from the token's claims). */
export interface Session {
    readonly token: string;
    readonly org: string;
    readonly role: string;
    readonly sub: string;
    readonly uscc?: string;
}

export function sessionOf(token: string): Session | undefined {
    try {
        const payload = JSON.parse(atob((token.split('.')[1] ?? '').replace(/-/g, '+').replace(/_/g, '/'))) as Record<string, string>;
        return payload.org && payload.role && payload.sub ? { token, org: payload.org, role: payload.role, sub: payload.sub, ...(payload.uscc ? { uscc: payload.uscc } : {}) } : undefined;
    } catch {
        return undefined;
    }
}

export class ApiError extends Error {
    constructor(readonly status: number, readonly problem: { title?: string; detail?: string; field?: string; code?: string }) {
        super(problem.detail ?? problem.title ?? `HTTP ${status}`);
    }
}

/** The REST API with the session's token. */
export class Api {
    constructor(private readonly session: Session) {}

    async get<T>(path: string): Promise<T> {
        return this.send<T>('GET', path);
    }

    async post<T>(path: string, body: unknown): Promise<T> {
        return this.send<T>('POST', path, body);
    }

    async put<T>(path: string, body: unknown): Promise<T> {
        return this.send<T>('PUT', path, body);
    }

    async delete(path: string): Promise<void> {
        await this.send('DELETE', path);
    }

    /** Sends a file as the request body, with its media type. */
    async upload<T>(path: string, file: Blob, contentType: string): Promise<T> {
        const response = await fetch(path, { method: 'POST', headers: { Authorization: `Bearer ${this.session.token}`, 'Content-Type': contentType }, body: file });
        const answer = await response.json().catch(() => ({})) as unknown;
        if (!response.ok) {
            throw new ApiError(response.status, answer as ApiError['problem']);
        }
        return answer as T;
    }

    /** Downloads a file the API answers (a PDF) under `name`. */
    async download(path: string, name: string): Promise<void> {
        const response = await fetch(path, { headers: { Authorization: `Bearer ${this.session.token}` } });
        if (!response.ok) {
            throw new ApiError(response.status, await response.json().catch(() => ({})) as ApiError['problem']);
        }
        const link = h('a', { href: URL.createObjectURL(await response.blob()), download: name }) as HTMLAnchorElement;
        document.body.append(link);
        link.click();
        link.remove();
    }

    /** Reads a server-sent event stream (with the token, which EventSource cannot send) until `signal` aborts or it ends. */
    async stream(path: string, onEvent: (event: string, data: unknown) => void, signal: AbortSignal): Promise<void> {
        const response = await fetch(path, { headers: { Authorization: `Bearer ${this.session.token}`, Accept: 'text/event-stream' }, signal });
        const reader = response.body?.getReader();
        if (!reader) {
            return;
        }
        const decoder = new TextDecoder();
        let buffer = '';
        for (;;) {
            const { value, done } = await reader.read();
            if (done) {
                return;
            }
            buffer += decoder.decode(value, { stream: true });
            let end: number;
            while ((end = buffer.indexOf('\n\n')) >= 0) {
                const block = buffer.slice(0, end);
                buffer = buffer.slice(end + 2);
                const name = /^event: (.*)$/m.exec(block)?.[1];
                const data = /^data: (.*)$/m.exec(block)?.[1];
                if (name && data) {
                    onEvent(name, JSON.parse(data));
                }
            }
        }
    }

    private async send<T>(method: string, path: string, body?: unknown): Promise<T> {
        const response = await fetch(path, {
            method, headers: { Authorization: `Bearer ${this.session.token}`, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
            ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        });
        const answer = await response.json().catch(() => ({})) as unknown;
        if (!response.ok) {
            throw new ApiError(response.status, answer as ApiError['problem']);
        }
        return answer as T;
    }
}

/** A table with a header row; `empty` when there are no rows. */
export function table(headings: readonly string[], rows: readonly (readonly Child[])[], empty: string): HTMLElement {
    if (rows.length === 0) {
        return h('p', { class: 'empty' }, empty);
    }
    return h('table', {}, h('thead', {}, h('tr', {}, headings.map((heading) => h('th', { scope: 'col' }, heading)))),
        h('tbody', {}, rows.map((row) => h('tr', {}, row.map((cell) => h('td', {}, cell))))));
}

export function errorBox(error: unknown): HTMLElement {
    const problem = error instanceof ApiError ? `${error.status} ${error.problem.code ?? ''} ${error.problem.field ? `${error.problem.field}: ` : ''}${error.message}` : String(error);
    return h('p', { class: 'error', role: 'alert' }, problem);
}

function span(seconds: number, language: Language): string {
    const [s, min, hours] = language === 'zh' ? [' 秒', ' 分钟', ' 小时'] : [' s', ' min', ' h'];
    return seconds < 120 ? `${seconds}${s}` : seconds < 7200 ? `${Math.round(seconds / 60)}${min}` : `${Math.round(seconds / 3600)}${hours}`;
}

/** How long ago: `42 s`, `3 min`, `2 h` (`42 秒` in Chinese). */
export function since(iso: string, language: Language = 'en'): string {
    return span(Math.max(0, Math.round((Date.now() - new Date(iso).getTime()) / 1000)), language);
}

/** How long until: `+42 s` (or how long ago, `−3 min`, for a time past). */
export function until(iso: string, language: Language = 'en'): string {
    const seconds = Math.round((new Date(iso).getTime() - Date.now()) / 1000);
    return seconds >= 0 ? `+${span(seconds, language)}` : `−${span(-seconds, language)}`;
}
