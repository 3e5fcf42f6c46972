"""peewee models for every table of the store.

Models are bound to a `DatabaseProxy` so one process opens exactly one store at a time
(the Engine initialises it). The schema itself is created by the frozen SQL migrations in
`migrations/`; a test checks that these models and the migrated schema agree.
"""

from __future__ import annotations

import datetime as dt

from peewee import (
    AutoField,
    BlobField,
    BooleanField,
    DatabaseProxy,
    DateTimeField,
    FloatField,
    ForeignKeyField,
    IntegerField,
    Model,
    TextField,
)

database_proxy = DatabaseProxy()


def utcnow() -> dt.datetime:
    """Naive UTC timestamp; every stored time is UTC."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class BaseModel(Model):
    class Meta:
        database = database_proxy
        legacy_table_names = False


# --- bookkeeping ---------------------------------------------------------------------


class SchemaVersion(BaseModel):
    version = IntegerField(primary_key=True)
    applied_at = DateTimeField(default=utcnow)

    class Meta:
        table_name = "schema_version"


class StoreMeta(BaseModel):
    key = TextField(primary_key=True)
    value = TextField()

    class Meta:
        table_name = "store_meta"


class ChangeLog(BaseModel):
    """Appended to by SQLite triggers; the change feed reads it."""

    id = AutoField()
    table_name = TextField()
    row_id = IntegerField(null=True)
    op = TextField()
    at = DateTimeField(null=True)

    class Meta:
        table_name = "change_log"


# --- neural ---------------------------------------------------------------------------


class TrainingRun(BaseModel):
    model_name = TextField()
    model_version = IntegerField(null=True)
    kind = TextField(default="train")
    status = TextField(default="running")
    config = TextField(default="{}")  # JSON
    data_hash = TextField(null=True)
    metrics = TextField(default="{}")  # JSON
    started = DateTimeField(default=utcnow)
    finished = DateTimeField(null=True)

    class Meta:
        table_name = "training_runs"


class NeuralModel(BaseModel):
    name = TextField()
    category = TextField(default="custom")
    version = IntegerField(default=1)
    architecture = TextField()  # JSON
    weights = BlobField(null=True)
    accuracy = FloatField(null=True)
    val_accuracy = FloatField(null=True)
    size_bytes = IntegerField(default=0)
    status = TextField(default="untrained")
    description = TextField(default="")
    tags = TextField(default="[]")  # JSON
    training_run = ForeignKeyField(TrainingRun, null=True, backref="versions", on_delete="SET NULL")
    created = DateTimeField(default=utcnow)
    updated = DateTimeField(default=utcnow)

    class Meta:
        table_name = "neural_models"
        indexes = ((("name", "version"), True),)


class ModelAlias(BaseModel):
    """A movable name for one version (`NAME@champion`); rolling back moves it."""

    name = TextField()
    alias = TextField()
    model = ForeignKeyField(NeuralModel, backref="aliases", on_delete="CASCADE")
    updated = DateTimeField(default=utcnow)

    class Meta:
        table_name = "model_aliases"
        indexes = ((("name", "alias"), True),)


class TrainingHistory(BaseModel):
    model = ForeignKeyField(NeuralModel, backref="history", on_delete="CASCADE")
    epoch = IntegerField()
    loss = FloatField()
    accuracy = FloatField(null=True)
    val_loss = FloatField(null=True)
    val_accuracy = FloatField(null=True)
    at = DateTimeField(default=utcnow)

    class Meta:
        table_name = "training_history"


class Evaluation(BaseModel):
    """A model version measured on a data file (by hash); written by `neural evaluate`,
    read by every view of it, so a shown evaluation is never recomputed."""

    model = ForeignKeyField(NeuralModel, backref="evaluations", on_delete="CASCADE")
    data_hash = TextField(index=True)
    data_name = TextField()
    label_column = TextField()  # "" for reconstruction
    objective = TextField()
    rows = IntegerField()
    evaluated = IntegerField()
    accuracy = FloatField(null=True)
    result = TextField()  # JSON: every figure
    backend = TextField()
    created = DateTimeField(default=utcnow)

    class Meta:
        table_name = "evaluations"
        indexes = ((("model", "data_hash", "label_column"), True),)


# --- pipeline -------------------------------------------------------------------------


class Task(BaseModel):
    """The task bank: one row per task directory known to the store."""

    name = TextField(unique=True)
    kind = TextField()
    complexity = TextField()
    description = TextField(default="")
    path = TextField()
    created = DateTimeField(default=utcnow)

    class Meta:
        table_name = "tasks"


class PipelineRun(BaseModel):
    status = TextField(default="running")
    complexity = TextField(null=True)
    iterations = IntegerField(default=1)
    strategies = TextField(default="[]")  # JSON
    config = TextField(default="{}")  # JSON
    summary = TextField(default="{}")  # JSON
    started = DateTimeField(default=utcnow)
    finished = DateTimeField(null=True)

    class Meta:
        table_name = "pipeline_runs"


class TaskExecution(BaseModel):
    run = ForeignKeyField(PipelineRun, backref="executions", on_delete="CASCADE")
    iteration = IntegerField()
    task = TextField()
    strategy = TextField()
    tests_passed = IntegerField(default=0)
    tests_total = IntegerField(default=0)
    lint_ok = BooleanField(default=False)
    lint_errors = IntegerField(default=0)
    exec_ms = FloatField(default=0.0)
    score = FloatField(default=0.0)
    status = TextField(default="failed")
    reason = TextField(default="")
    log_excerpt = TextField(default="")
    created = DateTimeField(default=utcnow)
    level = TextField(null=True)  # curriculum level of the iteration
    isolation = TextField(null=True)  # bwrap | unshare | limits (migration 0014)
    # a command strategy's step (migration 0013): exit code, time, diff, network allowed
    command_exit = IntegerField(null=True)
    command_ms = FloatField(null=True)
    command_diff = TextField(null=True)
    command_network = BooleanField(null=True)
    # a selector's choice (0013): which selector, P(chosen), the distribution (JSON)
    selector = TextField(null=True)
    propensity = FloatField(null=True)
    probabilities = TextField(null=True)

    class Meta:
        table_name = "task_executions"


class StrategyProfile(BaseModel):
    strategy = TextField(unique=True)
    success_rate = FloatField(default=0.0)
    avg_score = FloatField(default=0.0)
    avg_exec_ms = FloatField(default=0.0)
    uses = IntegerField(default=0)
    real_executions = IntegerField(default=0)
    updated = DateTimeField(default=utcnow)
    passes = IntegerField(default=0)  # Beta posterior counts for the bandit
    failures = IntegerField(default=0)

    class Meta:
        table_name = "strategy_profiles"


class StrategyTrend(BaseModel):
    strategy = TextField()
    run = ForeignKeyField(PipelineRun, null=True, backref="trend", on_delete="SET NULL")
    iteration = IntegerField(default=0)
    score = FloatField()
    success_rate = FloatField()
    exec_ms = FloatField()
    at = DateTimeField(default=utcnow)
    level = TextField(null=True)

    class Meta:
        table_name = "strategy_trend"


# --- memory ---------------------------------------------------------------------------


class VectorMemory(BaseModel):
    namespace = TextField()
    key = TextField()
    text = TextField()
    embedding_i8 = BlobField()
    scale = FloatField()
    embedding_f32 = BlobField(null=True)
    dim = IntegerField()
    embedder = TextField(default="hashing-384")
    metadata = TextField(default="{}")  # JSON
    created = DateTimeField(default=utcnow)
    updated = DateTimeField(default=utcnow)
    expires = DateTimeField(null=True, index=True)  # UTC; NULL = never (memory by key, TTL)

    class Meta:
        table_name = "vector_memory"
        # (namespace, embedder, dim): migration 0015, so an IVF index checks the rows it
        # covers (count, max id) from the index alone
        indexes = ((("namespace", "key"), True), (("namespace", "embedder", "dim"), False))


class EpisodicMemory(BaseModel):
    session = TextField()
    sequence = IntegerField()
    kind = TextField()
    text = TextField(default="")
    context = TextField(default="{}")  # JSON
    outcome = TextField(default="neutral")
    created = DateTimeField(default=utcnow)

    class Meta:
        table_name = "episodic_memory"
        indexes = ((("session", "sequence"), True), (("created",), False))


class SemanticMemory(BaseModel):
    kind = TextField(default="fact")
    subject = TextField(default="")
    statement = TextField(unique=True)
    confidence = FloatField()
    confidence_given = BooleanField(default=True)  # False: the default prior, not a measure
    source = TextField()
    evidence_count = IntegerField(default=1)
    created = DateTimeField(default=utcnow)
    updated = DateTimeField(default=utcnow)

    class Meta:
        table_name = "semantic_memory"
        indexes = ((("subject",), False),)


class MemoryEvent(BaseModel):
    """What a memory tier dropped or moved (eviction, consolidation, pruning) and why."""

    tier = TextField()
    action = TextField()
    reason = TextField()
    count = IntegerField()
    detail = TextField(default="{}")  # JSON
    at = DateTimeField(default=utcnow, index=True)

    class Meta:
        table_name = "memory_events"


# --- patterns and learning ------------------------------------------------------------


class LabelledOperation(BaseModel):
    """The labelled cognitive-pattern dataset the pattern classifier learns from."""

    text = TextField(unique=True)
    pattern = TextField()
    source = TextField(default="sample_data")
    created = DateTimeField(default=utcnow)

    class Meta:
        table_name = "labelled_operations"


class PatternMemory(BaseModel):
    """One row per learned operation (`key` = its normalized text); outcome counts
    give the confidence."""

    type = TextField()
    data = TextField(default="{}")  # JSON
    confidence = FloatField(null=True)
    usage_count = IntegerField(default=0)
    last_used = DateTimeField(null=True)
    created = DateTimeField(default=utcnow)
    key = TextField(null=True, unique=True)
    successes = IntegerField(default=0)
    failures = IntegerField(default=0)

    class Meta:
        table_name = "pattern_memory"


class Learning(BaseModel):
    type = TextField()
    description = TextField()
    agent = TextField(default="")
    task = TextField(default="")
    confidence = FloatField(default=0.0)
    occurrences = IntegerField(default=1)
    evidence = TextField(default="[]")  # JSON
    created = DateTimeField(default=utcnow)
    updated = DateTimeField(default=utcnow)
    key = TextField(null=True, unique=True)
    level = TextField(default="low")

    class Meta:
        table_name = "learnings"


class ExperienceBuffer(BaseModel):
    source = TextField()
    input = TextField()  # JSON
    output = TextField(default="")  # JSON
    quality = TextField(default="neutral")
    trained = BooleanField(default=False)
    created = DateTimeField(default=utcnow)
    target_model = TextField(default="")
    source_ref = TextField(null=True, unique=True)  # e.g. "execution:12"; ingest once
    label = TextField(null=True)  # the training label, when known
    corrected = TextField(null=True)  # JSON: the teacher's corrected target
    curriculum_run_id = IntegerField(null=True)
    training_run_id = IntegerField(null=True)

    class Meta:
        table_name = "experience_buffer"
        indexes = ((("target_model", "trained"), False),)


class CurriculumRun(BaseModel):
    teacher = TextField()
    entries = IntegerField(default=0)
    corrected = IntegerField(default=0)
    status = TextField(default="running")
    started = DateTimeField(default=utcnow)
    finished = DateTimeField(null=True)
    target_model = TextField(default="")
    details = TextField(default="{}")  # JSON

    class Meta:
        table_name = "curriculum_runs"


# --- knowledge hub --------------------------------------------------------------------


class Channel(BaseModel):
    name = TextField(unique=True)
    description = TextField(default="")
    created = DateTimeField(default=utcnow)

    class Meta:
        table_name = "channels"


class Subscription(BaseModel):
    agent = TextField()
    channel = ForeignKeyField(Channel, backref="subscriptions", on_delete="CASCADE")
    created = DateTimeField(default=utcnow)

    class Meta:
        table_name = "subscriptions"
        indexes = ((("agent", "channel"), True),)


class KnowledgeItem(BaseModel):
    uid = TextField(unique=True)
    channel = ForeignKeyField(Channel, backref="items", on_delete="CASCADE")
    type = TextField()
    title = TextField()
    content = TextField()
    context = TextField(default="{}")  # JSON
    priority = IntegerField(default=2)  # 1 LOW .. 4 CRITICAL
    tags = TextField(default="[]")  # JSON
    source_agent = TextField(default="")
    views = IntegerField(default=0)
    useful_votes = IntegerField(default=0)
    applied_count = IntegerField(default=0)
    success_count = IntegerField(default=0)
    failure_count = IntegerField(default=0)
    state = TextField(default="EXPERIMENTAL")
    version = IntegerField(default=1)
    created = DateTimeField(default=utcnow)
    updated = DateTimeField(default=utcnow)
    last_used = DateTimeField(null=True)  # last recorded application, for pruning

    class Meta:
        table_name = "knowledge_items"


class KnowledgeVersion(BaseModel):
    item = ForeignKeyField(KnowledgeItem, backref="versions", on_delete="CASCADE")
    version = IntegerField()
    title = TextField()
    content = TextField()
    change_note = TextField(default="")
    created = DateTimeField(default=utcnow)

    class Meta:
        table_name = "knowledge_versions"
        indexes = ((("item", "version"), True),)


class KnowledgeDelivery(BaseModel):
    """One shared item in one subscriber's inbox; acknowledged when the agent has read it."""

    item = ForeignKeyField(KnowledgeItem, backref="deliveries", on_delete="CASCADE")
    agent = TextField()
    delivered = DateTimeField(default=utcnow)
    acknowledged = DateTimeField(null=True)

    class Meta:
        table_name = "knowledge_deliveries"
        indexes = ((("item", "agent"), True), (("agent", "acknowledged"), False))


class KnowledgeVote(BaseModel):
    """A useful vote; the unique index makes it one per agent and item."""

    item = ForeignKeyField(KnowledgeItem, backref="votes", on_delete="CASCADE")
    agent = TextField()
    created = DateTimeField(default=utcnow)

    class Meta:
        table_name = "knowledge_votes"
        indexes = ((("item", "agent"), True),)


class KnowledgeApplication(BaseModel):
    """An agent applied an item; success is None when the outcome was not reported."""

    item = ForeignKeyField(KnowledgeItem, backref="applications", on_delete="CASCADE")
    agent = TextField()
    success = BooleanField(null=True)
    created = DateTimeField(default=utcnow)

    class Meta:
        table_name = "knowledge_applications"


# --- adaptive strategy and performance optimizer ---------------------------------------


class AdaptiveDecision(BaseModel):
    """A task analysis and the execution strategy chosen for it."""

    uid = TextField(unique=True)
    description = TextField()
    complexity = TextField()
    strategy = TextField()
    agents = TextField(default="[]")  # JSON
    confidence = FloatField()
    estimated_s = FloatField(null=True)
    analysis = TextField(default="{}")  # JSON
    created = DateTimeField(default=utcnow)

    class Meta:
        table_name = "adaptive_decisions"


class AdaptiveOutcome(BaseModel):
    """What happened when a strategy ran; later choices learn from these rows."""

    decision = ForeignKeyField(
        AdaptiveDecision, null=True, backref="outcomes", on_delete="SET NULL"
    )
    description = TextField()
    complexity = TextField()
    strategy = TextField()
    agents = TextField(default="[]")  # JSON
    success = BooleanField()
    duration_s = FloatField()
    iterations = IntegerField(default=1)
    errors = IntegerField(default=0)
    what_worked = TextField(default="[]")  # JSON
    improvements = TextField(default="[]")  # JSON
    created = DateTimeField(default=utcnow)

    class Meta:
        table_name = "adaptive_outcomes"
        indexes = ((("strategy", "complexity"), False),)


class AgentExecution(BaseModel):
    """One measured execution of an agent on a task category (performance optimizer)."""

    agent = TextField()
    category = TextField()
    duration_s = FloatField()
    iterations = IntegerField(default=1)
    success = BooleanField()
    errors = IntegerField(default=0)
    actions = IntegerField(default=0)
    source = TextField(default="cli")
    created = DateTimeField(default=utcnow)

    class Meta:
        table_name = "agent_executions"
        indexes = ((("agent", "category"), False),)


# --- agents (recorded coding-agent sessions) -------------------------------------------


class AgentSession(BaseModel):
    """One session of a real agent, recorded from hooks, transcripts or neutral events.

    `external_id` is the agent's own session id (Claude Code's `session_id`).
    """

    external_id = TextField(unique=True)
    source = TextField(default="hook")  # hook | transcript | event | mcp
    agent = TextField(default="claude-code")
    cwd = TextField(null=True)
    transcript_path = TextField(null=True)
    model = TextField(null=True)
    status = TextField(default="active")  # active | ended
    outcome = TextField(null=True)  # success | failure | partial | unknown, once derived
    outcome_detail = TextField(default="{}")  # JSON: how the outcome was derived
    prompts = IntegerField(default=0)
    tool_calls = IntegerField(default=0)
    tool_failures = IntegerField(default=0)
    redactions = IntegerField(default=0)
    meta = TextField(default="{}")  # JSON: fields we do not model, kept
    started = DateTimeField(default=utcnow)
    last_event = DateTimeField(default=utcnow)
    ended = DateTimeField(null=True)

    class Meta:
        table_name = "agent_sessions"
        indexes = ((("last_event",), False),)


class AgentEvent(BaseModel):
    """Every event of a session in arrival order, unknown kinds and fields included."""

    session = ForeignKeyField(AgentSession, on_delete="CASCADE", backref="events")
    seq = IntegerField()
    kind = TextField()  # hook_event_name, transcript record type or neutral kind
    at = DateTimeField(default=utcnow)
    source_key = TextField(null=True)  # dedup key (transcript uuid); unique per session
    text = TextField(null=True)  # the human-readable part (prompt, message), redacted
    payload = TextField(default="{}")  # the whole event as JSON, redacted

    class Meta:
        table_name = "agent_events"
        indexes = ((("session", "seq"), False), (("session", "source_key"), True))


class AgentToolCall(BaseModel):
    """A tool call, paired pre/post by `tool_use_id` so it has a duration."""

    session = ForeignKeyField(AgentSession, on_delete="CASCADE", backref="tool_call_rows")
    tool_use_id = TextField(null=True)
    tool_name = TextField()
    input = TextField(default="{}")  # JSON, redacted
    response = TextField(null=True)  # excerpt, redacted
    status = TextField(default="pending")  # pending | ok | failed
    error = TextField(null=True)
    started = DateTimeField(null=True)
    ended = DateTimeField(null=True)
    duration_ms = FloatField(null=True)

    class Meta:
        table_name = "agent_tool_calls"
        indexes = ((("session", "tool_use_id"), True), (("tool_name",), False))


class AgentAdvice(BaseModel):
    """Context the workbench injected into a session (`hooks run --advise`)."""

    session = ForeignKeyField(AgentSession, on_delete="CASCADE", backref="advice")
    event = TextField()
    at = DateTimeField(default=utcnow)
    items = TextField(default="[]")  # JSON: [{"kind": "hub"|"learning"|"memory", "id": n, ...}]
    text = TextField()
    applied = IntegerField(default=0)  # items later reported applied

    class Meta:
        table_name = "agent_advice"


class AgentError(BaseModel):
    """A problem met while recording agent data; hooks never fail the agent, so it lands here."""

    at = DateTimeField(default=utcnow)
    source = TextField()  # hooks | import | record | mcp
    session_external_id = TextField(null=True)
    message = TextField()
    detail = TextField(null=True)

    class Meta:
        table_name = "agent_errors"


# --- leases (owners of running work) ----------------------------------------------------


class WorkLease(BaseModel):
    """The process that owns a running row; see `store/leases.py`."""

    table_name = TextField()
    row_id = IntegerField()
    host = TextField()
    pid = IntegerField()
    proc_start = TextField()
    created = DateTimeField(default=utcnow)

    class Meta:
        table_name = "work_leases"
        indexes = ((("table_name", "row_id"), True),)


BOOKKEEPING_MODELS = [SchemaVersion, StoreMeta, ChangeLog, WorkLease]


# --- derived indexes (no change triggers: rebuilt from the tables above when stale) -------


class VectorIvf(BaseModel):
    """One IVF index of vector memory (see workbench/memory/ivf.py and migration 0015)."""

    namespace = TextField()
    embedder = TextField()
    dim = IntegerField()
    nlist = IntegerField()
    nprobe = IntegerField()
    recall = FloatField()
    trained_rows = IntegerField()
    inertia = FloatField()
    added_rows = IntegerField()
    added_dist = FloatField()
    rows = IntegerField()
    max_id = IntegerField()
    cursor = IntegerField()
    centroids = BlobField()
    checksum = TextField()
    built = DateTimeField()
    updated = DateTimeField()

    class Meta:
        table_name = "vector_ivf"
        indexes = ((("namespace", "embedder", "dim"), True),)


class VectorIvfList(BaseModel):
    """One list of an IVF index: row ids, scales and int8 codes, each one blob."""

    ivf_id = IntegerField()
    list_no = IntegerField()
    n = IntegerField()
    ids = BlobField()
    scales = BlobField()
    codes = BlobField()

    class Meta:
        table_name = "vector_ivf_lists"
        indexes = ((("ivf_id", "list_no"), True),)


INDEX_MODELS = [VectorIvf, VectorIvfList]


class LearnWatcher(BaseModel):
    """The heartbeat of `workbench learn watch` (one per store): its owner, when it
    started, its last beat and next check, and what its last check did."""

    name = TextField(unique=True)
    host = TextField()
    pid = IntegerField()
    proc_start = TextField()
    status = TextField()  # watching | stopped
    started = DateTimeField()
    heartbeat = DateTimeField()
    next_check = DateTimeField(null=True)
    stopped = DateTimeField(null=True)
    checks = IntegerField()
    trainings = IntegerField()
    last_result = TextField()  # JSON

    class Meta:
        table_name = "learn_watchers"


DOMAIN_MODELS = [
    NeuralModel,
    ModelAlias,
    TrainingHistory,
    Evaluation,
    TrainingRun,
    Task,
    PipelineRun,
    TaskExecution,
    StrategyProfile,
    StrategyTrend,
    VectorMemory,
    EpisodicMemory,
    SemanticMemory,
    MemoryEvent,
    LabelledOperation,
    PatternMemory,
    Learning,
    ExperienceBuffer,
    CurriculumRun,
    Channel,
    Subscription,
    KnowledgeItem,
    KnowledgeVersion,
    KnowledgeDelivery,
    KnowledgeVote,
    KnowledgeApplication,
    AdaptiveDecision,
    AdaptiveOutcome,
    AgentExecution,
    AgentSession,
    AgentEvent,
    AgentToolCall,
    AgentAdvice,
    AgentError,
    LearnWatcher,
]
ALL_MODELS = BOOKKEEPING_MODELS + DOMAIN_MODELS + INDEX_MODELS
MODELS_BY_TABLE = {m._meta.table_name: m for m in ALL_MODELS}
DOMAIN_TABLES = [m._meta.table_name for m in DOMAIN_MODELS]
