/* concierge/abi.h: the C boundary between the concierge daemon and its plugins (plain C99, no C++ type crosses).
 *
 * A plugin is a shared library that exports ONE symbol of ours:
 *
 *     CONCIERGE_EXPORT const concierge_plugin* concierge_plugin_entry(const concierge_host_api* host);
 *
 * Required. The host calls it once per load, on its event loop thread, before anything else of the plugin runs. It
 * returns the plugin's descriptor (concierge_plugin, static data that stays valid while the library is mapped), or
 * NULL to refuse this host (the host then says "refused by the plugin"). `host` is the host's table of services: a
 * static table that stays valid until the library is unloaded; the plugin may keep the pointer.
 * A C++ plugin uses the header-only layer in concierge/cxx/ instead of writing this by hand (CONCIERGE_CXX_PLUGIN).
 *
 * ---- VERSIONING (the host's side is host/src/c_plugin.cpp; enforced at load, refusals name both versions) ----
 * CONCIERGE_ABI_MAJOR / CONCIERGE_ABI_MINOR are the version of THIS header. A descriptor records the version the
 * plugin was built with; the host table records the host's.
 * - Another MAJOR is refused: anything may differ.
 * - A plugin built for a NEWER minor than the host's is refused: it may rely on what the host lacks.
 * - A plugin built for an OLDER or EQUAL minor is served. Every struct that crosses starts with `uint32_t
 *   struct_size` (sizeof as its creator compiled it); the reader reads only the fields that size covers and treats
 *   the rest as absent (zero / NULL). The host also refuses a plugin whose struct_size is smaller than its minor
 *   defines (a corrupt or hand-made descriptor).
 * - So a minor bump may only APPEND a field at the end of a struct (an optional function pointer, which NULL means
 *   "not implemented", or a value whose zero means "as before"), add a constant, or add a struct/handle type.
 *   Anything else (a field removed, reordered, retyped, a changed meaning) is a MAJOR bump.
 * - A plugin reads a host table field added in minor N only when host->abi_minor >= N (a newer plugin is refused by
 *   an older host anyway, so in practice: the host's table always covers the plugin's minor).
 * - The host reads a table field added in minor N only from a plugin built for N or later: an older plugin's table
 *   ends before it (its struct_size says so), and the host treats the missing Optional entry as NULL.
 * HISTORY (frozen copies of each minor's header live in tests/abi/<major>.<minor>/concierge/abi.h; a plugin built
 * against each must keep loading and running a call in every later host of the major)
 *   1.0  the first C ABI: voice models, telephony providers, agents; the host's loop, timers, blocking work, log,
 *        metrics, public domain, inbound calls, HTTP routes and server-side WebSocket streams, HTTP and WebSocket
 *        clients.
 *   1.1  Line events (concierge_line_event, the C form of the SDK's concierge/line_event.hpp): at the end of
 *        concierge_agent_api, session_listens_for_beep (the host runs its beep detector on the callee's audio) and
 *        session_line_event (returns a note for the voice model); at the end of concierge_voice_model_api,
 *        session_line_event (the event with the agent's note). All Optional. At the end of concierge_host_api,
 *        call_late_status (a provider corrects a finished call's record, the SDK's CallEvents::on_late_status) and
 *        call_events_retain / call_events_release (a provider keeps a call's events past leg_destroy to report
 *        late statuses).
 *   1.2  Teardown requests over the host's HTTP client: at the end of concierge_http_client_request, `flags`
 *        (CONCIERGE_HTTP_TEARDOWN: a hang-up or cancel the host admits from the share of its in-flight cap it keeps
 *        for teardowns, the SDK's HttpClient::start_teardown). A 1.0/1.1 plugin's request ends before `flags`
 *        (its struct_size says so) and is served as an ordinary request, as before.
 *   1.3  Refused WebSocket upgrades as data, and TLS contexts loaded ahead: at the end of
 *        concierge_ws_client_listener, on_refused (Optional: the HTTP status and detail of a refused upgrade, just
 *        before on_failed's sentence); at the end of concierge_host_api, ws_client_prepare_tls (loads the TLS
 *        context of a CA file for the instance's wss:// clients ahead of the first one, so create() can refuse a
 *        CA file that does not load and the first call does not wait for it). A 1.0-1.2 plugin's listener ends
 *        before on_refused (its struct_size says so): it hears a refusal as on_failed's sentence only, worded as
 *        it always was ("<peer_name> refused the WebSocket upgrade (HTTP <status>[: <detail>])").
 *
 * ---- THREADS ----
 * The host has one event loop thread. Unless a comment says otherwise, every function in a plugin table is called
 * on it, every host function must be called on it, and every callback runs on it. Nothing may block it: a call into
 * a plugin returns within a millisecond or so (blocking work goes to run_blocking; I/O to the host's HTTP and
 * WebSocket clients). The one exception: concierge_host_api.post may be called from ANY thread.
 *
 * ---- OWNERSHIP (each handle type below repeats what applies to it) ----
 * - Data passed into a call (a concierge_str, a frame, a request, JSON text) is BORROWED for the duration of that
 *   call only: copy what you keep. Nothing passed in is ever freed by the callee.
 * - Handles the plugin creates (concierge_instance, concierge_voice_session, concierge_call_leg,
 *   concierge_agent_session, concierge_ws_handler) are owned by the plugin until the host calls the matching
 *   destroy function, exactly once; after it returns the host never uses the handle again.
 * - Handles the host creates (concierge_host, concierge_voice_events, concierge_call_events, concierge_ws_peer,
 *   concierge_ws_client) are owned by the host; each says until when the plugin may use it.
 * - The host keeps the plugin's library mapped while any object, timer, posted callback, blocking work or handler of
 *   it is alive, drops the plugin's pending work (never calling it) when the instance is destroyed, and only then
 *   unloads the library. A callback is never called after the cancel or destroy that dropped it has returned.
 * - No exception, longjmp or C++ type crosses this boundary.
 */
#ifndef CONCIERGE_ABI_H
#define CONCIERGE_ABI_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CONCIERGE_ABI_MAJOR 1
#define CONCIERGE_ABI_MINOR 3
#define CONCIERGE_ABI_MAGIC 0x4943434eu /* "NCCI" little-endian: a concierge C interface descriptor */
#define CONCIERGE_PLUGIN_ENTRY_SYMBOL "concierge_plugin_entry"

#if defined(__GNUC__) || defined(__clang__)
#define CONCIERGE_EXPORT __attribute__((visibility("default")))
#else
#define CONCIERGE_EXPORT
#endif

/* ==== Plain data ==== */

/* Text: UTF-8, NOT necessarily NUL-terminated; `len` bytes at `ptr` (ptr may be NULL when len is 0). Borrowed. */
typedef struct concierge_str {
  const char* ptr;
  size_t len;
} concierge_str;

/* Where a function writes text of a length only it knows (JSON results, a response body). Provided by the caller,
 * valid for the duration of the call it is passed to; `write` appends and may be called any number of times. */
typedef struct concierge_text_sink {
  void* ctx;
  void (*write)(void* ctx, const char* ptr, size_t len);
} concierge_text_sink;

/* Status codes. Errors are a code plus words in a concierge_error (or a result's message). */
typedef enum concierge_status {
  CONCIERGE_OK = 0,
  CONCIERGE_E_INVALID = 1,     /* a bad argument */
  CONCIERGE_E_CONFIG = 2,      /* the config block is refused: key_path names where, message says why */
  CONCIERGE_E_UNSUPPORTED = 3, /* an optional function this side does not implement */
  CONCIERGE_E_STATE = 4,       /* not now: closed, not open, shutting down */
  CONCIERGE_E_LIMIT = 5,       /* a limit was reached (too many requests in flight) */
  CONCIERGE_E_INTERNAL = 6     /* anything else (the C++ layer maps an unexpected exception here) */
} concierge_status;

/* An error report, created by the CALLER with buffers it owns; the callee fills it on failure. The callee writes
 * at most capacity-1 bytes and a NUL into each buffer (truncating at a UTF-8 boundary is polite, not required).
 * `key_path` and `line` are for CONCIERGE_E_CONFIG: the full key path of the offending key
 * ("plugins.voice_model.config.format") and its 1-based line; line 0 lets the host find the line from the
 * positions it gave (concierge_config.positions), so a plugin only has to name the key. The host then reports
 * "<file>: <key_path> (line N): <message>", the form of every config error of the daemon. */
typedef struct concierge_error {
  uint32_t struct_size;
  int32_t code; /* concierge_status; CONCIERGE_OK until set */
  char* message;
  size_t message_capacity;
  char* key_path;
  size_t key_path_capacity;
  uint32_t line;
} concierge_error;

/* Audio. pcm16: signed 16-bit little-endian linear PCM; mulaw: G.711 mu-law, one byte per sample. Mono today
 * (channels 1); rates 8000, 16000, 24000, 48000 (mulaw: 8000). */
enum { CONCIERGE_ENCODING_PCM16 = 1, CONCIERGE_ENCODING_MULAW = 2 };

typedef struct concierge_audio_format {
  uint32_t encoding; /* CONCIERGE_ENCODING_* */
  uint32_t rate;     /* samples per second */
  uint32_t channels; /* 1 */
} concierge_audio_format;

/* One frame of audio. OWNERSHIP: a view; the producer owns `data` and it is valid only during the call the frame is
 * passed to (copy into storage you own and reuse: the per-frame path allocates nothing). */
typedef struct concierge_frame {
  const uint8_t* data;
  size_t bytes;
  uint32_t encoding; /* CONCIERGE_ENCODING_* */
  uint32_t rate;
  uint32_t channels;
  uint64_t timestamp_us; /* media time of the first sample, from the start of its stream */
} concierge_frame;

enum { CONCIERGE_LOG_DEBUG = 0, CONCIERGE_LOG_INFO = 1, CONCIERGE_LOG_WARNING = 2, CONCIERGE_LOG_ERROR = 3 };

enum { CONCIERGE_KIND_TELEPHONY = 1, CONCIERGE_KIND_VOICE_MODEL = 2, CONCIERGE_KIND_AGENT = 3 };

enum { CONCIERGE_SPEAKER_AGENT = 0, CONCIERGE_SPEAKER_CALLEE = 1, CONCIERGE_SPEAKER_SYSTEM = 2 };

/* A call's life (text as Twilio spells it: "in-progress", "no-answer"). The last six are terminal. */
enum {
  CONCIERGE_CALL_QUEUED = 0,
  CONCIERGE_CALL_DIALING = 1,
  CONCIERGE_CALL_RINGING = 2,
  CONCIERGE_CALL_IN_PROGRESS = 3,
  CONCIERGE_CALL_COMPLETED = 4,
  CONCIERGE_CALL_FAILED = 5,
  CONCIERGE_CALL_NO_ANSWER = 6,
  CONCIERGE_CALL_BUSY = 7,
  CONCIERGE_CALL_CANCELED = 8,
  CONCIERGE_CALL_TIMED_OUT = 9
};

/* What a call came to, in one word: an agent puts one in its outcome JSON's details.outcome
 * (CONCIERGE_OUTCOME_KEY). The same spellings as concierge/outcome_kind.hpp; a word is only ever added. */
#define CONCIERGE_OUTCOME_KEY "outcome"
#define CONCIERGE_OUTCOME_SUCCEEDED "succeeded"         /* the task was done */
#define CONCIERGE_OUTCOME_UNAVAILABLE "unavailable"     /* what was asked for is not available */
#define CONCIERGE_OUTCOME_DECLINED "declined"           /* the callee would not do it, for another reason */
#define CONCIERGE_OUTCOME_NO_ANSWER "no_answer"         /* nobody answered, or nobody spoke */
#define CONCIERGE_OUTCOME_VOICEMAIL "voicemail"         /* voicemail answered; no message was left */
#define CONCIERGE_OUTCOME_VOICEMAIL_LEFT "voicemail_left" /* voicemail answered; a message was left after its beep */
#define CONCIERGE_OUTCOME_MENU_DEAD_END "menu_dead_end" /* a phone menu led to no person or service */
#define CONCIERGE_OUTCOME_NOT_COMPLETED "not_completed" /* ended without the task done, otherwise */
typedef enum concierge_outcome {
  CONCIERGE_OUTCOME_KIND_SUCCEEDED = 0,
  CONCIERGE_OUTCOME_KIND_UNAVAILABLE = 1,
  CONCIERGE_OUTCOME_KIND_DECLINED = 2,
  CONCIERGE_OUTCOME_KIND_NO_ANSWER = 3,
  CONCIERGE_OUTCOME_KIND_VOICEMAIL = 4,
  CONCIERGE_OUTCOME_KIND_VOICEMAIL_LEFT = 5,
  CONCIERGE_OUTCOME_KIND_MENU_DEAD_END = 6,
  CONCIERGE_OUTCOME_KIND_NOT_COMPLETED = 7,
  CONCIERGE_OUTCOME_KIND_COUNT = 8
} concierge_outcome;

/* The plugin's config block. Created by the host, BORROWED for the duration of create().
 * `json` is the block as JSON text after ${VAR} interpolation ("{}" when the config has none). YAML plain scalars
 * become JSON null, true/false, numbers when YAML would read them so; everything else (quoted text too) a string.
 * `positions` give every key's place in the YAML file by its full key path, spelled as the daemon spells key paths:
 * "<key_path>.restaurants[0].phone". */
typedef struct concierge_config_position {
  concierge_str key_path;
  uint32_t line;   /* 1-based */
  uint32_t column; /* 1-based */
} concierge_config_position;

typedef struct concierge_config {
  uint32_t struct_size;
  concierge_str json;
  concierge_str key_path; /* where the block sits: "plugins.voice_model.config"; "" when there is no file */
  concierge_str file;     /* the YAML file, for messages; "" when none */
  concierge_str dir;      /* the folder of that file, for relative paths in the block */
  const concierge_config_position* positions;
  size_t position_count;
} concierge_config;

/* ==== Opaque handles ==== */

/* concierge_host: the host's side of ONE plugin instance (what the host table's functions take first).
 * OWNERSHIP: created by the host before create(), destroyed by the host after destroy() returns; the plugin may use
 * it from create() until its destroy() returns, never after.
 * THREADS: loop only, except post(), which any thread may call (until destroy() has returned). */
typedef struct concierge_host concierge_host;

/* concierge_instance: the plugin's object made by create() from its config (a provider, a model, an agent).
 * OWNERSHIP: the plugin's; the host calls concierge_plugin.destroy once, after every session/leg/handler made from
 * it has been destroyed. THREADS: loop only. */
typedef struct concierge_instance concierge_instance;

/* concierge_voice_session: one call's conversation, made by concierge_voice_model_api.open_session.
 * OWNERSHIP: the plugin's until concierge_voice_model_api.session_destroy. THREADS: loop only. */
typedef struct concierge_voice_session concierge_voice_session;

/* concierge_voice_events: the host's side of one voice session (where agent audio, transcripts, tool calls go).
 * OWNERSHIP: the host's; valid from open_session until session_destroy of that session returns. Calls after
 * session_close has returned are ignored. THREADS: loop only. */
typedef struct concierge_voice_events concierge_voice_events;

/* concierge_call_leg: the provider's side of one call (telephony), made by place_call or handed to
 * accept_inbound_call. OWNERSHIP: the plugin's until concierge_telephony_api.leg_destroy. THREADS: loop only. */
typedef struct concierge_call_leg concierge_call_leg;

/* concierge_call_events: the host's side of one call (the provider reports what happens on the line).
 * OWNERSHIP: the host's; valid until leg_destroy of that leg returns, or (C ABI 1.1) longer, until the plugin's
 * last call_events_release of a call_events_retain it made. Events of a call that has finished here are ignored,
 * except call_provider_call_id and call_late_status (the record is amended). THREADS: loop only. */
typedef struct concierge_call_events concierge_call_events;

/* concierge_agent_session: one call's worth of agent state, made by concierge_agent_api.open_session.
 * OWNERSHIP: the plugin's until concierge_agent_api.session_destroy. THREADS: loop only. */
typedef struct concierge_agent_session concierge_agent_session;

/* concierge_ws_peer: one accepted server-side WebSocket (a provider's media stream).
 * OWNERSHIP: the host's; valid until the matching concierge_ws_handler is destroyed (ws_handler_destroy returns).
 * THREADS: loop only. */
typedef struct concierge_ws_peer concierge_ws_peer;

/* concierge_ws_handler: what the plugin gives the host for a WebSocket it accepted.
 * OWNERSHIP: the plugin's until concierge_telephony_api.ws_handler_destroy. THREADS: loop only. */
typedef struct concierge_ws_handler concierge_ws_handler;

/* concierge_ws_client: an outbound WebSocket the host runs for the plugin (ws:// or wss://).
 * OWNERSHIP: the host's; the plugin may use it from ws_client_open until it calls ws_client_close (which ends
 * it: no listener call after ws_client_close returns), and must call ws_client_close exactly once (the host closes
 * every client still open when the instance is destroyed). THREADS: loop only. */
typedef struct concierge_ws_client concierge_ws_client;

/* A plain callback with its context. `user` is the plugin's; the host never reads or frees it. */
typedef void (*concierge_callback)(void* user);

/* ==== HTTP (server side: a provider's routes and media stream) ==== */

typedef struct concierge_header {
  concierge_str name; /* lower-case for requests the host received */
  concierge_str value;
} concierge_header;

/* A request the host received. OWNERSHIP: the host's, borrowed for the duration of the call it is passed to
 * (concierge_ws_peer's upgrade request: for the peer's life). */
typedef struct concierge_http_request {
  uint32_t struct_size;
  concierge_str method; /* "GET", "POST" */
  concierge_str target; /* path and query as received: "/twiml?call_id=abc" */
  concierge_str path;   /* "/twiml" */
  const concierge_header* query; /* decoded query parameters (name, value) */
  size_t query_count;
  const concierge_header* headers;
  size_t header_count;
  concierge_str body;
  concierge_str remote_address;
} concierge_http_request;

/* Where a handler writes its response. OWNERSHIP: the host's, valid during the call it is passed to. Defaults:
 * status 200, content type "application/json", empty body. */
typedef struct concierge_http_response_writer concierge_http_response_writer;

/* ==== HTTP client (outbound, the host's libcurl on its loop) ==== */

typedef struct concierge_http_client_request {
  uint32_t struct_size;
  concierge_str method; /* GET, POST, PUT, PATCH, DELETE */
  concierge_str url;    /* http:// or https://; redirects are not followed */
  const concierge_header* headers;
  size_t header_count;
  concierge_str body;
  concierge_str username; /* basic authentication when not empty */
  concierge_str password;
  uint32_t timeout_ms;         /* 0: 15000 */
  uint32_t connect_timeout_ms; /* 0: 10000 */
  uint64_t max_response_bytes; /* 0: 1 MiB */
  concierge_str ca_file;       /* a PEM bundle to trust instead of the system's; verification is never off */

  /* ---- C ABI 1.2 (the host reads it only when struct_size covers it: older plugins' requests are ordinary) ---- */
  uint32_t flags; /* CONCIERGE_HTTP_*; 0: an ordinary request. Bits the host does not know are ignored. */
} concierge_http_client_request;

/* concierge_http_client_request.flags (C ABI 1.2).
 * CONCIERGE_HTTP_TEARDOWN: the request ends or releases something the provider holds for a call (a hang-up, a
 * cancel of a ringing call, ending at the provider a call given up on here). The host's client refuses more than a
 * cap of requests in flight (512 in the daemon) and keeps part of it (64) for teardowns: ordinary requests are
 * refused once the rest is in flight, a teardown only when the whole cap is, so a hang-up is not refused behind
 * creates a slow provider has not answered. Marking an ordinary request as a teardown takes that reserve away from
 * real hang-ups: don't. (The SDK's concierge/http_client.hpp, HttpClient::start_teardown, says the same.) */
#define CONCIERGE_HTTP_TEARDOWN 0x1u

/* OWNERSHIP: the host's, borrowed for the duration of the completion. */
typedef struct concierge_http_client_response {
  uint32_t struct_size;
  int32_t status;      /* HTTP status; 0 when no complete response arrived (see error) */
  concierge_str body;
  concierge_str content_type;
  concierge_str error; /* why there is no response, in words; empty when one arrived */
  int32_t timed_out;
  uint64_t elapsed_ms;
} concierge_http_client_response;

/* Runs exactly once on the loop, never inside http_start, unless the request was cancelled or the instance
 * destroyed first. */
typedef void (*concierge_http_done)(void* user, const concierge_http_client_response* response);

/* ==== WebSocket client (outbound) ==== */

typedef struct concierge_ws_client_options {
  uint32_t struct_size;
  int32_t tls;            /* wss:// (1) or ws:// (0) */
  concierge_str host;     /* name or address; a name is sent as SNI and verified */
  concierge_str port;     /* "443" */
  concierge_str target;   /* "/v1/realtime?model=..." */
  concierge_str host_header; /* "" = host[:port] */
  const concierge_header* headers; /* sent with the upgrade (Authorization) */
  size_t header_count;
  uint32_t connect_timeout_ms; /* 0: 10000 */
  uint32_t idle_timeout_ms;    /* 0: 20000; ping after this long silent, dead after as long again */
  uint64_t max_message_bytes;  /* 0: 16 MiB */
  concierge_str peer_name;     /* how failure messages name the service */
  concierge_str ca_file;       /* "" = the system's store */
} concierge_ws_client_options;

/* What the host reports about a client. The table is the plugin's (static or living until ws_client_close
 * returns); `user` is passed back. THREADS: loop, never inside ws_client_open/send/close. After on_failed or after
 * ws_client_close returns, nothing more is called. */
typedef struct concierge_ws_client_listener {
  uint32_t struct_size;
  void (*on_open)(void* user);
  void (*on_message)(void* user, concierge_str text); /* one whole text message; borrowed */
  void (*on_failed)(void* user, concierge_str message); /* a sentence for people */

  /* ---- C ABI 1.3 (the host reads it only when struct_size covers it) ---- */
  /* Optional: the peer refused the upgrade (answered with any HTTP status but 101), as data: `http_status` (401:
   * a refused key, 403, 404, 429...) and `detail`, the body's JSON "error.message" when it has one, else the body
   * shortened at a UTF-8 boundary (maybe empty). `detail` is the host's, borrowed for the call. THREADS: loop.
   * Called at most once, just before on_failed, which then follows with the host's sentence about the same refusal
   * ("<peer_name> refused the WebSocket upgrade (HTTP <status>[: <detail>])"), unless the plugin calls
   * ws_client_close from inside on_refused (then nothing follows). NULL, or a listener whose struct_size ends
   * before it (a 1.0-1.2 plugin's): the refusal is told through on_failed's sentence only. Every 1.x host keeps
   * that sentence word for word, since older plugins read the status back from it. */
  void (*on_refused)(void* user, int32_t http_status, concierge_str detail);
} concierge_ws_client_listener;

/* ==== Telephony data ==== */

typedef struct concierge_outbound_call {
  uint32_t struct_size;
  concierge_str call_id;     /* the host's id; carried through webhooks and media streams */
  concierge_str to;          /* E.164 */
  concierge_str callee_name; /* for logs and simulations */
  uint32_t ring_timeout_s;
} concierge_outbound_call;

typedef struct concierge_call_status_update {
  uint32_t struct_size;
  int32_t status;            /* CONCIERGE_CALL_* */
  concierge_str reason;      /* why it failed, in words */
  int32_t duration_seconds;  /* -1 when unknown */
  concierge_str answered_by; /* "human", "machine_start", ... or "" */
} concierge_call_status_update;

typedef struct concierge_inbound_call {
  uint32_t struct_size;
  concierge_str from;
  concierge_str to;
  concierge_str provider_call_id;
} concierge_inbound_call;

/* ==== Voice data ==== */

/* OWNERSHIP: the host's, borrowed for the duration of open_session. */
typedef struct concierge_voice_session_config {
  uint32_t struct_size;
  concierge_str call_id;
  concierge_str instructions; /* the agent's prompt */
  concierge_str tools_json;   /* JSON array of {"name", "description", "parameters" (JSON Schema)} */
  concierge_str task_json;    /* the task as a JSON object */
  concierge_audio_format line_format;
} concierge_voice_session_config;

typedef struct concierge_voice_metrics {
  uint32_t struct_size;
  int64_t response_latency_us; /* -1 when not measured */
  uint64_t input_tokens;
  uint64_t output_tokens;
  double audio_seconds;
} concierge_voice_metrics;

/* ==== Line events (C ABI 1.1) ==== */

/* What a line event is about (concierge_line_event.kind); the SDK's concierge/line_event.hpp spells them the same.
 * A plugin meets kinds newer than its header as unknown words: it ignores them. */
#define CONCIERGE_LINE_EVENT_BEEP "beep"               /* a voicemail beep has just ENDED (the host's detector) */
#define CONCIERGE_LINE_EVENT_ANSWERED_BY "answered_by" /* the provider's answering-machine verdict, in detail */
#define CONCIERGE_LINE_EVENT_DTMF "dtmf"               /* the callee pressed the key in detail: 0-9, *, #, A-D */

/* Something the host learned about the line besides speech. The host tells the agent first
 * (concierge_agent_api.session_line_event), which may answer with a note; then the voice session
 * (concierge_voice_model_api.session_line_event) with that note. OWNERSHIP: the host's, borrowed for the duration
 * of the call it is passed to (copy what you keep). */
typedef struct concierge_line_event {
  uint32_t struct_size;
  concierge_str kind;   /* CONCIERGE_LINE_EVENT_* */
  concierge_str detail; /* answered_by: the verdict (human, machine_start, machine_end_beep, machine_end_silence,
                           machine_end_other, fax, unknown); dtmf: the key; beep: "" */
  double beep_hz;       /* beep: the tone's frequency; else 0 */
  /* To the voice session only (empty and 0 for the agent): the agent's note for the voice model, in words for the
   * model ("" for none), and 1 when it is the agent's turn to speak at once (a note after a beep or a
   * machine_end_* verdict: the greeting is over). */
  concierge_str note;
  int32_t respond_now;
} concierge_line_event;

/* ==== The host's table ==== */

/* Offered by the host, static, valid until the library is unloaded. Every function takes the instance's
 * concierge_host first (NULL only where a comment allows it). THREADS: loop only, except post. */
typedef struct concierge_host_api {
  uint32_t struct_size;
  uint32_t abi_major; /* the host's CONCIERGE_ABI_MAJOR / MINOR */
  uint32_t abi_minor;

  /* -- log and metrics -- */
  /* Writes one line at `level`, stamped with time, level and the plugin's name. */
  void (*log)(concierge_host* host, int32_t level, concierge_str message);
  int32_t (*log_enabled)(concierge_host* host, int32_t level); /* 1 when `level` is written */
  /* Adds `delta` to the counter concierge_plugin_<plugin>_<name>_total on /metrics (name: [a-z0-9_]+). */
  void (*metric_add)(concierge_host* host, concierge_str name, double delta);
  /* Sets the gauge concierge_plugin_<plugin>_<name> on /metrics. */
  void (*metric_set)(concierge_host* host, concierge_str name, double value);

  /* -- the event loop -- */
  /* Runs fn(user) on the loop, soon, never inside post. THREADS: ANY thread (the only such function). Dropped
   * (never called) when the instance is destroyed first. CONCIERGE_E_STATE once the instance is being destroyed. */
  int32_t (*post)(concierge_host* host, concierge_callback fn, void* user);
  /* Runs fn(user) once on the loop after `delay_us` (never early, never inside timer_start). Returns a non-zero id.
   * Dropped when cancelled or when the instance is destroyed first. */
  uint64_t (*timer_start)(concierge_host* host, uint64_t delay_us, concierge_callback fn, void* user);
  /* fn is not called after this returns. Unknown or fired ids are ignored. */
  void (*timer_cancel)(concierge_host* host, uint64_t timer_id);
  /* Runs work(user) on a host worker thread (blocking file I/O), then done(user) on the loop. `work` runs on
   * another thread, concurrently with the loop: it must touch only what `user` owns. The host does not destroy
   * the instance while its work runs (it waits); `done` is dropped when the instance is destroyed first. */
  int32_t (*run_blocking)(concierge_host* host, concierge_callback work, concierge_callback done, void* user);

  /* -- the daemon -- */
  /* The public host name ("abc123.ngrok.io"), "" when not configured. Valid until the instance is destroyed. */
  concierge_str (*public_domain)(concierge_host* host);
  /* An inbound call (a call to our number, a stream the host did not place). On acceptance the host takes `leg`
   * (it calls leg_destroy when done with it) and returns the events the provider reports through; NULL when
   * inbound calls are refused (the leg stays the plugin's). */
  concierge_call_events* (*accept_inbound_call)(concierge_host* host, const concierge_inbound_call* call,
                                                concierge_call_leg* leg);

  /* -- a call's events (telephony) -- */
  void (*call_provider_call_id)(concierge_call_events* events, concierge_str id);
  void (*call_status)(concierge_call_events* events, const concierge_call_status_update* update);
  void (*call_media_started)(concierge_call_events* events, concierge_audio_format line_format);
  void (*call_audio)(concierge_call_events* events, const concierge_frame* frame); /* the callee's audio */
  void (*call_playback_progress)(concierge_call_events* events, int64_t played_us);
  void (*call_dtmf)(concierge_call_events* events, char digit);
  void (*call_media_stopped)(concierge_call_events* events, concierge_str reason);
  void (*call_simulated_callee_text)(concierge_call_events* events, concierge_str text);

  /* -- a voice session's events -- */
  void (*voice_ready)(concierge_voice_events* events);
  void (*voice_audio)(concierge_voice_events* events, const concierge_frame* frame); /* in output_format */
  void (*voice_speech_started)(concierge_voice_events* events);
  void (*voice_speech_stopped)(concierge_voice_events* events);
  void (*voice_interruption)(concierge_voice_events* events);
  void (*voice_transcript)(concierge_voice_events* events, int32_t speaker, concierge_str text);
  /* Answered with concierge_voice_model_api.session_tool_result. */
  void (*voice_tool_call)(concierge_voice_events* events, concierge_str id, concierge_str name,
                          concierge_str arguments_json);
  void (*voice_metrics)(concierge_voice_events* events, const concierge_voice_metrics* metrics);
  void (*voice_error)(concierge_voice_events* events, concierge_str message, int32_t fatal);

  /* -- HTTP responses (handle_http, check_media_stream_upgrade) -- */
  void (*response_set_status)(concierge_http_response_writer* response, int32_t status);
  void (*response_set_content_type)(concierge_http_response_writer* response, concierge_str content_type);
  void (*response_add_header)(concierge_http_response_writer* response, concierge_str name, concierge_str value);
  void (*response_append_body)(concierge_http_response_writer* response, concierge_str bytes);

  /* -- server-side WebSocket peers -- */
  /* Queues a text message (copied) and returns at once. */
  int32_t (*ws_peer_send_text)(concierge_ws_peer* peer, concierge_str message);
  void (*ws_peer_close)(concierge_ws_peer* peer, concierge_str reason);
  int32_t (*ws_peer_is_open)(concierge_ws_peer* peer);
  const concierge_http_request* (*ws_peer_upgrade_request)(concierge_ws_peer* peer);

  /* -- HTTP client -- */
  /* Starts a request and returns its non-zero id at once; `done` runs exactly once (see concierge_http_done),
   * also for a request that cannot start (past the in-flight cap: status 0 and the reason in words). A request
   * with CONCIERGE_HTTP_TEARDOWN in `flags` (C ABI 1.2) may use the places the host keeps for teardowns. */
  uint64_t (*http_start)(concierge_host* host, const concierge_http_client_request* request,
                         concierge_http_done done, void* user);
  /* The connection is dropped and `done` is never called. Unknown or completed ids are ignored. */
  void (*http_cancel)(concierge_host* host, uint64_t request_id);

  /* -- WebSocket client -- */
  /* Begins connecting; `listener`/`user` hear the outcome. NULL with `error` filled when the options are refused
   * (a bad host). A wss:// client whose CA file's TLS context is not loaded yet waits for a host worker to load it
   * (ws_client_prepare_tls, C ABI 1.3, does that ahead); one that cannot be loaded fails it through on_failed. */
  concierge_ws_client* (*ws_client_open)(concierge_host* host, const concierge_ws_client_options* options,
                                         const concierge_ws_client_listener* listener, void* user,
                                         concierge_error* error);
  /* Queues a text message (copied). 0 and nothing queued when not open or closing. */
  int32_t (*ws_client_send)(concierge_ws_client* client, concierge_str text);
  size_t (*ws_client_queued)(concierge_ws_client* client);
  /* Detaches the listener and closes politely; the handle is invalid after this returns. */
  void (*ws_client_close)(concierge_ws_client* client);

  /* ---- C ABI 1.1 (present in every 1.1+ host: a plugin reads them when host->abi_minor >= 1) ---- */
  /* A late report of a call that has FINISHED here, when that final status was the host's guess rather than the
   * provider's word (a create that timed out here but went through): the status the call really has at the
   * provider and why, in words for the user. The host amends the finished record (reason; status and ended_at when
   * `update` is terminal; the late status appended to its history); the call never becomes live again. A provider
   * call id learnt late goes through call_provider_call_id first. Ignored while the call is still live here (its
   * statuses go through call_status). Any number of times. */
  void (*call_late_status)(concierge_call_events* events, const concierge_call_status_update* update);
  /* Keeps `events` valid after leg_destroy of its leg (a provider that will report late statuses of a finished
   * call) until the matching call_events_release; returns `events`. Each retain needs one release; the host
   * releases what is left when the instance is destroyed. Keeping events keeps nothing of the call alive. */
  concierge_call_events* (*call_events_retain)(concierge_call_events* events);
  void (*call_events_release)(concierge_call_events* events);

  /* ---- C ABI 1.3 (present in every 1.3+ host: a plugin reads it when host->abi_minor >= 3) ---- */
  /* Loads ahead the TLS context that ws_client_open uses for wss:// clients trusting `ca_file` ("" = the system's
   * store), and keeps it for this instance's clients (until the instance is destroyed), so the first call's
   * client does not wait for it. Meant for create(), at start-up. `ca_file` is borrowed for the call; `error` as
   * everywhere (may be NULL).
   * - A PEM bundle (`ca_file` not ""): read now, on the calling thread (the loop, where create() runs before the
   *   daemon listens; a file of one certificate loads in about 0.4 ms, a whole system bundle given as a file in
   *   about 0.1 s): CONCIERGE_OK, or CONCIERGE_E_INVALID with the reason in `error` ("could not load <file>:
   *   <why>"; a plugin reports it as a CONCIERGE_E_CONFIG on its own ca_file key). A file that does not load is
   *   not kept: a later client reads it again.
   * - The system's store (""): tens of milliseconds to load, so a host worker loads it and this returns
   *   CONCIERGE_OK at once; a client opened meanwhile waits for that load (no second one), and a store that cannot
   *   be loaded fails the clients through on_failed, as it would without this call.
   * Calling it again once the context is loaded does nothing. Not needed for ws:// clients. CONCIERGE_E_STATE once
   * the instance is being destroyed. */
  int32_t (*ws_client_prepare_tls)(concierge_host* host, concierge_str ca_file, concierge_error* error);
} concierge_host_api;

/* ==== The plugin's tables, by kind ==== */

/* A voice model. Required unless marked Optional. */
typedef struct concierge_voice_model_api {
  uint32_t struct_size;
  /* Opens one call's session; events go to `events` (never from inside open_session). NULL with `error` filled
   * when it cannot. */
  concierge_voice_session* (*open_session)(concierge_instance* instance, const concierge_voice_session_config* config,
                                           concierge_voice_events* events, concierge_error* error);
  concierge_audio_format (*session_input_format)(concierge_voice_session* session);  /* callee audio it wants */
  concierge_audio_format (*session_output_format)(concierge_voice_session* session); /* agent audio it makes */
  /* Callee audio, in input_format. The frame is borrowed for this call. */
  void (*session_send_audio)(concierge_voice_session* session, const concierge_frame* frame);
  /* The agent's answer to a voice_tool_call. */
  void (*session_tool_result)(concierge_voice_session* session, concierge_str call_id, concierge_str name,
                              concierge_str output_json, int32_t end_call);
  /* Optional: agent audio the callee has heard, from the line's start. */
  void (*session_playback_progress)(concierge_voice_session* session, int64_t played_us);
  /* Optional: simulation side channel, the text of the callee's last utterance. */
  void (*session_simulated_callee_text)(concierge_voice_session* session, concierge_str text);
  /* Idempotent; no event after it returns. */
  void (*session_close)(concierge_voice_session* session);
  /* Frees the session (closing it first if needed). */
  void (*session_destroy)(concierge_voice_session* session);

  /* ---- C ABI 1.1 ---- */
  /* Optional: something the host learned about the line (concierge_line_event), with the agent's note for the
   * model in event->note: tell the model the note, and answer at once when event->respond_now. Borrowed for the
   * call. NULL: the session is not told. */
  void (*session_line_event)(concierge_voice_session* session, const concierge_line_event* event);
} concierge_voice_model_api;

/* A telephony provider. */
typedef struct concierge_telephony_api {
  uint32_t struct_size;
  /* Starts an outbound call and returns its leg at once; progress arrives through `events` (failure to start too,
   * as a failed status). NULL only when no leg could be made at all (error filled). */
  concierge_call_leg* (*place_call)(concierge_instance* instance, const concierge_outbound_call* call,
                                    concierge_call_events* events, concierge_error* error);
  /* Agent audio to the line, in the line format of call_media_started. */
  void (*leg_send_audio)(concierge_call_leg* leg, const concierge_frame* frame);
  void (*leg_clear_audio)(concierge_call_leg* leg); /* barge-in */
  void (*leg_hang_up)(concierge_call_leg* leg);     /* idempotent; the final status comes through the events */
  /* Optional: simulation side channel, the text the agent just said. */
  void (*leg_simulated_agent_text)(concierge_call_leg* leg, concierge_str text);
  void (*leg_destroy)(concierge_call_leg* leg);
  /* Optional: extra HTTP routes (exact paths, any method): route_count, then each route(i) (borrowed while the
   * instance lives). */
  size_t (*http_route_count)(concierge_instance* instance);
  concierge_str (*http_route)(concierge_instance* instance, size_t index);
  /* Optional (required with routes): answers a request to one of the routes through `response`. */
  void (*handle_http)(concierge_instance* instance, const concierge_http_request* request,
                      concierge_http_response_writer* response);
  /* Optional: a WebSocket upgrade on /media-stream: 1 accepts; 0 refuses with what was written to `response`
   * (403 for a bad signature). NULL: the host refuses with 404. */
  int32_t (*check_media_stream_upgrade)(concierge_instance* instance, const concierge_http_request* upgrade,
                                        concierge_http_response_writer* response);
  /* Optional (required with check_media_stream_upgrade): an accepted stream; NULL closes it. */
  concierge_ws_handler* (*open_media_stream)(concierge_instance* instance, concierge_ws_peer* peer);
  void (*ws_handler_on_text)(concierge_ws_handler* handler, concierge_str message);
  void (*ws_handler_on_closed)(concierge_ws_handler* handler, concierge_str reason);
  void (*ws_handler_destroy)(concierge_ws_handler* handler);
  /* Optional: destination policy asked before a call is placed: 1 when `number` may be dialled, else 0 with the
   * reason (for the user) written to `reason`. NULL: every number may be dialled. */
  int32_t (*check_destination)(concierge_instance* instance, concierge_str number, concierge_text_sink* reason);
} concierge_telephony_api;

/* An agent. JSON shapes are those of concierge/agent.hpp's structs, field for field:
 * request {"text", "fields"}; plan {"ready", "question", "callee_name", "phone_number", "summary", "details",
 * "reading"}; tools [{"name", "description", "parameters"}]; outcome {"success", "confirmation_number",
 * "failure_reason", "details"} (details.outcome: one of CONCIERGE_OUTCOME_*). */
typedef struct concierge_agent_api {
  uint32_t struct_size;
  /* Writes the plan's JSON to `plan`; CONCIERGE_OK, or a code with `error` filled. */
  int32_t (*plan)(concierge_instance* instance, concierge_str request_json, concierge_text_sink* plan,
                  concierge_error* error);
  concierge_agent_session* (*open_session)(concierge_instance* instance, concierge_str plan_json,
                                           concierge_error* error);
  void (*session_instructions)(concierge_agent_session* session, concierge_text_sink* instructions);
  void (*session_tools)(concierge_agent_session* session, concierge_text_sink* tools_json);
  /* Runs a tool; writes its output JSON; *end_call set to 1 when the agent wants the call ended after it. */
  int32_t (*session_tool_call)(concierge_agent_session* session, concierge_str call_id, concierge_str name,
                               concierge_str arguments_json, concierge_text_sink* output_json, int32_t* end_call);
  void (*session_transcript)(concierge_agent_session* session, int32_t speaker, concierge_str text,
                             int64_t at_unix_us);
  void (*session_outcome)(concierge_agent_session* session, concierge_text_sink* outcome_json);
  void (*session_destroy)(concierge_agent_session* session);

  /* ---- C ABI 1.1 ---- */
  /* Optional: asked once, when the call's media starts: 1 to have the host run its beep detector on the callee's
   * audio and report each beep's end as a CONCIERGE_LINE_EVENT_BEEP (a voicemail policy that leaves a message after
   * the beep). NULL: 0 (the operator's calls.beep_detection: always still runs it). */
  int32_t (*session_listens_for_beep)(concierge_agent_session* session);
  /* Optional: something the host learned about the line (a beep's end, the provider's answering-machine verdict, a
   * key the callee pressed). Writes a note for the voice model to `note`, in words the model reads (nothing
   * written: no note); the host hands it on to the voice session. Borrowed for the call. NULL: no note. */
  void (*session_line_event)(concierge_agent_session* session, const concierge_line_event* event,
                             concierge_text_sink* note);
} concierge_agent_api;

/* ==== The descriptor ==== */

/* Returned by concierge_plugin_entry. Static data of the plugin, valid while its library is mapped. The host reads
 * it on the loop, checks it (magic, versions, sizes, kind, name, the kind's required functions) and copies what it
 * needs before calling create. */
typedef struct concierge_plugin {
  uint32_t struct_size; /* sizeof(concierge_plugin) as the plugin compiled it */
  uint32_t magic;       /* CONCIERGE_ABI_MAGIC */
  uint32_t abi_major;   /* CONCIERGE_ABI_MAJOR the plugin was built with */
  uint32_t abi_minor;
  uint32_t kind;        /* CONCIERGE_KIND_* */
  const char* name;     /* NUL-terminated; must equal the file's name without ".so" */
  const char* version;  /* the plugin's own version, "1.0.0" */
  const char* description; /* one line */
  /* Makes the instance from its config. NULL with `error` filled when the block is refused (CONCIERGE_E_CONFIG with
   * the key path) or anything else fails. `host` is this instance's host handle (see concierge_host). */
  concierge_instance* (*create)(concierge_host* host, const concierge_config* config, concierge_error* error);
  /* Frees the instance. Every session, leg and handler made from it is already destroyed. */
  void (*destroy)(concierge_instance* instance);
  /* The table of the plugin's kind; the other two NULL. Static. */
  const concierge_telephony_api* telephony;
  const concierge_voice_model_api* voice_model;
  const concierge_agent_api* agent;
} concierge_plugin;

typedef const concierge_plugin* (*concierge_plugin_entry_fn)(const concierge_host_api* host);

/* Helpers (static inline: nothing of ours is linked or exported). */
static inline concierge_str concierge_str_of(const char* nul_terminated) {
  concierge_str s;
  size_t n = 0;
  if (nul_terminated)
    while (nul_terminated[n]) ++n;
  s.ptr = nul_terminated;
  s.len = n;
  return s;
}

/* Writes `text` (truncated to fit, NUL-terminated) into `error` with `code`. Safe with a NULL error. */
static inline void concierge_error_set(concierge_error* error, int32_t code, const char* key_path,
                                       const char* message) {
  size_t i;
  if (!error) return;
  error->code = code;
  if (error->message && error->message_capacity) {
    for (i = 0; message && message[i] && i + 1 < error->message_capacity; ++i) error->message[i] = message[i];
    error->message[i] = '\0';
  }
  if (error->key_path && error->key_path_capacity) {
    for (i = 0; key_path && key_path[i] && i + 1 < error->key_path_capacity; ++i) error->key_path[i] = key_path[i];
    error->key_path[i] = '\0';
  }
}

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* CONCIERGE_ABI_H */
