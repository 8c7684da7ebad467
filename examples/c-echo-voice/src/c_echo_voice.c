/* c-echo-voice: a voice model in plain C99 against concierge/abi.h alone (no C++, no Boost, no SDK library): it
 * says back every mu-law frame it hears, at once, and announces itself ready from a zero-delay host timer.
 * OWNERSHIP: the instance and each session are ours (calloc/free); `events` and `host` are the host's, used only
 * while the session / instance lives. THREADS: everything here runs on the host's event loop. */
#include <stdlib.h>
#include <string.h>

#include "concierge/abi.h"

static const concierge_host_api* api; /* the host's table, valid until this library is unloaded */

struct concierge_instance {
  concierge_host* host;
};

struct concierge_voice_session {
  concierge_host* host;
  concierge_voice_events* events;
  uint64_t ready_timer;
  int closed;
};

static const concierge_audio_format mulaw_8k = {CONCIERGE_ENCODING_MULAW, 8000, 1};

static concierge_instance* create(concierge_host* host, const concierge_config* config, concierge_error* error) {
  struct concierge_instance* instance;
  if (config->json.len != 2 || memcmp(config->json.ptr, "{}", 2) != 0) {
    concierge_error_set(error, CONCIERGE_E_CONFIG, "", "c-echo-voice takes no settings");
    return NULL;
  }
  instance = (struct concierge_instance*)calloc(1, sizeof *instance);
  if (!instance) return NULL;
  instance->host = host;
  api->log(host, CONCIERGE_LOG_INFO, concierge_str_of("c-echo-voice: hears and speaks mulaw/8000"));
  return instance;
}

static void destroy(concierge_instance* instance) { free(instance); }

static void ready(void* user) {
  struct concierge_voice_session* session = (struct concierge_voice_session*)user;
  session->ready_timer = 0;
  api->voice_ready(session->events);
}

static concierge_voice_session* open_session(concierge_instance* instance, const concierge_voice_session_config* config,
                                             concierge_voice_events* events, concierge_error* error) {
  struct concierge_voice_session* session = (struct concierge_voice_session*)calloc(1, sizeof *session);
  (void)config;
  if (!session) {
    concierge_error_set(error, CONCIERGE_E_INTERNAL, NULL, "out of memory");
    return NULL;
  }
  session->host = instance->host;
  session->events = events;
  session->ready_timer = api->timer_start(instance->host, 0, ready, session); /* never from inside open_session */
  return session;
}

static concierge_audio_format format(concierge_voice_session* session) {
  (void)session;
  return mulaw_8k;
}

/* The frame is the host's, borrowed for this call: handed straight back, nothing copied. */
static void send_audio(concierge_voice_session* session, const concierge_frame* frame) {
  if (!session->closed && frame->encoding == CONCIERGE_ENCODING_MULAW) api->voice_audio(session->events, frame);
}

static void tool_result(concierge_voice_session* session, concierge_str id, concierge_str name, concierge_str output,
                        int32_t end_call) {
  (void)session, (void)id, (void)name, (void)output, (void)end_call;
}

static void session_close(concierge_voice_session* session) {
  session->closed = 1;
  if (session->ready_timer) api->timer_cancel(session->host, session->ready_timer);
  session->ready_timer = 0;
}

static void session_destroy(concierge_voice_session* session) {
  session_close(session);
  free(session);
}

static const concierge_voice_model_api voice_model = {
    sizeof(concierge_voice_model_api), open_session, format, format, send_audio, tool_result,
    NULL, /* Optional: playback progress */
    NULL, /* Optional: simulated callee text */
    session_close, session_destroy,
    NULL, /* Optional (C ABI 1.1): line events; an echo has nothing to say to them */
};

static const concierge_plugin descriptor = {
    sizeof(concierge_plugin), CONCIERGE_ABI_MAGIC, CONCIERGE_ABI_MAJOR, CONCIERGE_ABI_MINOR,
    CONCIERGE_KIND_VOICE_MODEL, "c-echo-voice", "1.0.0",
    "A voice model in plain C: says back every frame it hears", create, destroy, NULL, &voice_model, NULL,
};

CONCIERGE_EXPORT const concierge_plugin* concierge_plugin_entry(const concierge_host_api* host) {
  if (host->abi_major != CONCIERGE_ABI_MAJOR) return NULL;
  api = host;
  return &descriptor;
}
