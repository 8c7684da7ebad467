#pragma once
// Something the host learned about the line other than speech (SDK 1.5): the beep of an answering machine heard on
// the callee's audio, the provider's answering-machine verdict, a key the callee pressed.
//
// The host tells the agent first (AgentSession::on_line_event), which may answer with a note for the voice model;
// then the voice session (VoiceSession::on_line_event) with that note in `note`. Both calls come from the host, on
// the call's thread (the event loop), only to plugins built for SDK 1.5 or later, and must return quickly.
//
// The event is the host's and lives only during the call: copy what you keep. A plugin meets kinds newer than its
// SDK as unknown words: it ignores them.
#include <string_view>

namespace concierge {

namespace line_event {
// The beep of an answering machine or voicemail has just ENDED (the host's beep detector, concierge/
// beep_detector.hpp, run on the callee's audio while the agent listens for it: AgentSession::listens_for_beep).
// `beep_hz` is its frequency.
inline constexpr std::string_view beep = "beep";
// The provider's answering-machine detection has a verdict; `detail` is it, in Twilio's words: human,
// machine_start, machine_end_beep, machine_end_silence, machine_end_other, fax, unknown.
inline constexpr std::string_view answered_by = "answered_by";
// The callee pressed a key (DTMF from the provider, e.g. Twilio's Media Streams `dtmf` message); `detail` is the
// key: 0-9, *, #, A-D.
inline constexpr std::string_view dtmf = "dtmf";
}  // namespace line_event

struct LineEvent {
  std::string_view kind;    // a word of line_event above
  std::string_view detail;  // answered_by: the verdict; dtmf: the key; beep: ""
  double beep_hz = 0;       // beep: the tone's frequency
  // To the voice session: what the agent wants the voice model told now ("" for nothing), in words for the model.
  std::string_view note;
  // To the voice session: the agent's turn to speak now, so a voice model that waits for the callee answers the note
  // at once. The host sets it when there is a note and the event ends a machine's greeting (a beep, or a verdict
  // machine_end_*).
  bool respond_now = false;
};

}  // namespace concierge
