// find_confirmation_code on what restaurant staff actually say.
#include <gtest/gtest.h>

#include "concierge/speech/spoken.hpp"
#include "test_support.hpp"

namespace concierge {
namespace {

struct Utterance {
  const char* text;
  const char* code;  // nullptr: no confirmation number in it
};

const Utterance kUtterances[] = {
    {"Your confirmation number is 4572.", "4572"},
    {"Confirmation: R as in Robert, 4 5 7 2", "R4572"},
    {"It's ABC123.", "ABC123"},
    {"The reference is four five seven two.", "4572"},
    {"Okay, for 4 people at 7, confirmation 8812.", "8812"},
    {"Your confirmation number is four oh seven two", "4072"},
    {"confirmation number: double seven three one", "7731"},
    {"The confirmation code is A as in apple, B as in boy, 1 2 3", "AB123"},
    {"Your booking reference is R dash 4 5", "R-45"},
    {"confirmation is triple nine two", "9992"},
    {"Your confirmation number is forty five seventy two", "4572"},
    {"Confirmation number 4-5-7-2", "4572"},
    {"That's all booked. Confirmation number is 9 0 1 5. See you Wednesday!", "9015"},
    {"your reservation number is 55821", "55821"},
    {"Reservation code: XJ-42", "XJ-42"},
    {"Table for 4 at 7:30, the confirmation is 6 6 1 9", "6619"},
    {"confirmation number is oh oh four two", "0042"},
    {"Your confirmation is Bravo Charlie 7 7", "BC77"},
    {"Your confirmation code is K as in kilo, 9, 3, 1", "K931"},
    {"Confirmation number: 4572. Again, that's 4572.", "4572"},
    {"Your confirmation number is 7 7 4 1, and we'll see you at 8", "7741"},
    {"Confirmation number's 2 2 0 9", "2209"},
    {"Here's your code: 5 5 5 1", "5551"},
    {"Your reference number is Q 7 dash 1 1", "Q7-11"},
    {"Your confirmation will be twelve thirty four", "1234"},
    {"Got you down for 6 people on Friday at 8 pm, confirmation 3 3 0 8", "3308"},
    {"Your confirmation number is eight eight one two for six people", "8812"},
    {"See you then! Oh, and your confirmation number is nine nine one.", "991"},
    {"The confirmation number is: one, two, three, four.", "1234"},
    {"We have you at 7:30 for two. Confirmation: X Y Z 9.", "XYZ9"},
    {"Your confirmation code is 4. 5. 7. 2.", "4572"},
    {"Your booking number is DR-2026-118", "DR-2026-118"},
    {"No problem, the reference for that is 7 0 zero 3", "7003"},
    {"Reference: G as in George, H as in Harry, 5 0", "GH50"},
    {"your confirmation number is 4572 and the table is for 4 at 7", "4572"},
    {"confirmation number, let me see... it's 1 9 9 3", "1993"},
    {"Here's your confirmation: ab12cd", "AB12CD"},
    {"Your confirmation number is 4 5 7 2. A table for 4 at 7.", "4572"},
    {"CONFIRMATION NUMBER IS FOUR FIVE SEVEN TWO", "4572"},
    {"your confirmation number is one two three four five six", "123456"},
    {"Alright, confirmation's going to be 3 8 8 1 for you", "3881"},
    {"Your confirmation number is O as in Oscar 4 4", "O44"},
    // Letters said by their names.
    {"your confirmation code is bee see four four one", "BC441"},
    {"the reference is dee aitch seven seven two", "DH772"},
    {"Confirmation number: ess, tee, 5 5 1", "ST551"},
    {"your code is four four one bee see you then", "441B"},
    {"confirmation number is zed double you 9 1 2", "ZW912"},
    {"booking reference: aitch kay 4 0 1", "HK401"},
    {"the confirmation is 4 4 1 2, see you then", "4412"},
    {"Your confirmation number is, let me see, 1 9 9 3", "1993"},
    {"Your confirmation will be K 4 4 1 2", "K4412"},
    {"your confirmation code is 8 8 1 2, thank you", "8812"},
    // No number in these.
    {"We don't give out confirmation numbers, you're all set.", nullptr},
    {"Sorry, we're fully booked that night.", nullptr},
    {"I'll have a confirmation number for you in a moment", nullptr},
    {"A confirmation text will be sent to your phone.", nullptr},
    {"Thanks for calling, goodbye", nullptr},
    {"We can do 8:30 instead, is that okay?", nullptr},
    {"You're confirmed for 4 at 7pm on November 25th.", nullptr},
    {"Call us at 555 123 4567 if anything changes", nullptr},
    {"Party of 4 at 7, got it.", nullptr},
    {"I'll see you at 7, confirmation is coming by text.", nullptr},
    {"Your confirmation? Let me see, you are down for two.", nullptr},
    {"The code is bee dee, I mean, we'll text it to you", nullptr},
};

class ConfirmationUtterance : public ::testing::TestWithParam<Utterance> {};

TEST_P(ConfirmationUtterance, FindsTheNumber) {
  const Utterance& u = GetParam();
  const auto code = find_confirmation_code(u.text);
  if (u.code == nullptr) {
    EXPECT_FALSE(code.has_value()) << u.text << " -> " << code.value_or("");
  } else {
    ASSERT_TRUE(code.has_value()) << u.text;
    EXPECT_EQ(*code, u.code) << u.text;
  }
}

void PrintTo(const Utterance& u, std::ostream* os) { *os << '"' << u.text << '"'; }

INSTANTIATE_TEST_SUITE_P(Utterances, ConfirmationUtterance, ::testing::ValuesIn(kUtterances),
                         [](const ::testing::TestParamInfo<Utterance>& info) {
                           return reservation::testing::case_name(info.index, info.param.text);
                         });

}  // namespace
}  // namespace concierge
