/* concierge/abi.h must be plain C99: this file is compiled with gcc and clang at -std=c99 -pedantic -Werror
 * (sdk/tests/CMakeLists.txt, test sdk_abi_h_is_c99). It also pins what abi.h promises about layout. */
#include "concierge/abi.h"

/* C99 has no static_assert: a negative array size fails the compile instead. */
#define ABI_CHECK(name, condition) typedef char abi_check_##name[(condition) ? 1 : -1]

ABI_CHECK(first_field_is_size, offsetof(concierge_plugin, struct_size) == 0);
ABI_CHECK(magic_second, offsetof(concierge_plugin, magic) == 4);
ABI_CHECK(major_third, offsetof(concierge_plugin, abi_major) == 8);
ABI_CHECK(minor_fourth, offsetof(concierge_plugin, abi_minor) == 12);
ABI_CHECK(host_table_size_first, offsetof(concierge_host_api, struct_size) == 0);
ABI_CHECK(voice_table_size_first, offsetof(concierge_voice_model_api, struct_size) == 0);
ABI_CHECK(telephony_table_size_first, offsetof(concierge_telephony_api, struct_size) == 0);
ABI_CHECK(agent_table_size_first, offsetof(concierge_agent_api, struct_size) == 0);
ABI_CHECK(outcome_count, CONCIERGE_OUTCOME_KIND_COUNT == 8);
/* C ABI 1.1 only appended: each new entry right after the last 1.0 one of its table. */
ABI_CHECK(voice_11_appended, offsetof(concierge_voice_model_api, session_line_event) ==
                                 offsetof(concierge_voice_model_api, session_destroy) + sizeof(void (*)(void)));
ABI_CHECK(agent_11_appended, offsetof(concierge_agent_api, session_listens_for_beep) ==
                                 offsetof(concierge_agent_api, session_destroy) + sizeof(void (*)(void)));
ABI_CHECK(host_11_appended, offsetof(concierge_host_api, call_late_status) ==
                                offsetof(concierge_host_api, ws_client_close) + sizeof(void (*)(void)));
ABI_CHECK(line_event_size_first, offsetof(concierge_line_event, struct_size) == 0);
/* C ABI 1.2 only appended: the HTTP request's flags right after its last 1.1 field; the teardown bit is bit 0. */
ABI_CHECK(http_request_12_appended, offsetof(concierge_http_client_request, flags) ==
                                        offsetof(concierge_http_client_request, ca_file) + sizeof(concierge_str));
ABI_CHECK(http_request_size_first, offsetof(concierge_http_client_request, struct_size) == 0);
ABI_CHECK(http_teardown_bit, CONCIERGE_HTTP_TEARDOWN == 1u);
/* C ABI 1.3 only appended: the WebSocket listener's on_refused right after its 1.0 on_failed, and ends it; the host
 * table's ws_client_prepare_tls right after the last 1.1 entry (1.2 added none there), and ends it. */
ABI_CHECK(ws_listener_size_first, offsetof(concierge_ws_client_listener, struct_size) == 0);
ABI_CHECK(ws_listener_13_appended, offsetof(concierge_ws_client_listener, on_refused) ==
                                       offsetof(concierge_ws_client_listener, on_failed) + sizeof(void (*)(void)));
ABI_CHECK(ws_listener_13_last, sizeof(concierge_ws_client_listener) ==
                                   offsetof(concierge_ws_client_listener, on_refused) + sizeof(void (*)(void)));
ABI_CHECK(host_13_appended, offsetof(concierge_host_api, ws_client_prepare_tls) ==
                                offsetof(concierge_host_api, call_events_release) + sizeof(void (*)(void)));
ABI_CHECK(host_13_last, sizeof(concierge_host_api) ==
                            offsetof(concierge_host_api, ws_client_prepare_tls) + sizeof(void (*)(void)));

CONCIERGE_EXPORT const concierge_plugin* concierge_plugin_entry(const concierge_host_api* host);
const concierge_plugin* concierge_plugin_entry(const concierge_host_api* host) {
  char message[16];
  concierge_error error;
  concierge_str text = concierge_str_of(CONCIERGE_OUTCOME_VOICEMAIL_LEFT);
  error.struct_size = sizeof error;
  error.message = message;
  error.message_capacity = sizeof message;
  error.key_path = 0;
  error.key_path_capacity = 0;
  concierge_error_set(&error, CONCIERGE_E_CONFIG, 0, "a message longer than the buffer");
  (void)host;
  (void)text;
  return 0;
}
