#include "twiml.hpp"

#include "concierge/http.hpp"

namespace concierge::twilio {

std::string connect_stream_twiml(std::string_view public_domain,
                                 const std::vector<std::pair<std::string, std::string>>& parameters) {
  std::string xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Connect><Stream url=\"";
  xml += xml_escape("wss://" + std::string(public_domain) + "/media-stream");
  xml += "\">";
  for (const auto& [name, value] : parameters) {
    xml += "<Parameter name=\"";
    xml += xml_escape(name);
    xml += "\" value=\"";
    xml += xml_escape(value);
    xml += "\"/>";
  }
  xml += "</Stream></Connect></Response>";
  return xml;
}

std::string hangup_twiml() {
  return "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Hangup/></Response>";
}

std::string reject_twiml() {
  return "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Reject reason=\"rejected\"/></Response>";
}

}  // namespace concierge::twilio
