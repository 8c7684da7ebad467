#pragma once
// Helpers for text as people speak it (number words, times of day, spelled codes). Being written; see spoken.cpp.
