// Bad input never crashes: each case in tests/errors/ runs the real binary (built with
// ASan/UBSan in the dev preset) and must print exactly expected.txt on stderr and exit 2.
// Regenerate the expectations for review with tests/errors/regenerate.sh.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace {
namespace fs = std::filesystem;

struct RunResult {
  std::string out;
  int exit_code = -1;
};

// Runs `command` through the shell, returning stdout and the exit code.
RunResult RunShell(const std::string& command) {
  RunResult r;
  FILE* p = popen(command.c_str(), "r");
  if (p == nullptr) return r;
  std::array<char, 4096> buf{};
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  const int status = pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> Cases() {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(PF_ERRORS_DIR))
    if (e.is_directory()) out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

class BadInput : public ::testing::TestWithParam<std::string> {};

TEST_P(BadInput, PrintsTheExactMessageAndExitsWithTwo) {
  const fs::path dir = fs::path(PF_ERRORS_DIR) / GetParam();
  std::string args = "check input.yaml";
  if (fs::exists(dir / "args")) {
    args = ReadFile(dir / "args");
    while (!args.empty() && (args.back() == '\n' || args.back() == ' ')) args.pop_back();
  }
  const auto r = RunShell("cd '" + dir.string() + "' && '" PF_BIN "' " + args + " 2>&1 >/dev/null");
  EXPECT_EQ(r.out, ReadFile(dir / "expected.txt")) << "case " << GetParam();
  EXPECT_EQ(r.exit_code, 2) << "case " << GetParam();
}

INSTANTIATE_TEST_SUITE_P(Errors, BadInput, ::testing::ValuesIn(Cases()),
                         [](const auto& info) {
                           std::string n = info.param;
                           for (char& c : n)
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           return n;
                         });

// Generated here rather than committed: a file over the 4 MiB input limit.
TEST(BadInputGenerated, AFileOverTheSizeLimitIsRefused) {
  const fs::path dir = fs::temp_directory_path() / ("pf_big_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  {
    std::ofstream f(dir / "big.yaml");
    f << "name: big\n";
    const std::string line = "# " + std::string(100, 'x') + "\n";
    for (int i = 0; i < 45000; ++i) f << line;
  }
  const auto size = fs::file_size(dir / "big.yaml");
  const auto r = RunShell("cd '" + dir.string() + "' && '" PF_BIN "' check big.yaml 2>&1 >/dev/null");
  fs::remove_all(dir);
  EXPECT_EQ(r.out, "big.yaml: error: file is " + std::to_string(size) +
                       " bytes, over the 4194304 byte limit for input files; is this the right file?\n"
                       "1 error; nothing was simulated.\n");
  EXPECT_EQ(r.exit_code, 2);
}

// Random bytes must never crash the loader (any exit but 2 or a sanitizer report fails).
TEST(BadInputGenerated, RandomBytesNeverCrash) {
  const fs::path dir = fs::temp_directory_path() / ("pf_rand_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::mt19937 rng(12345);
  for (int i = 0; i < 20; ++i) {
    {
      std::ofstream f(dir / "r.yaml", std::ios::binary);
      const int n = 1 + int(rng() % 400);
      // Half the cases are printable YAML-ish punctuation soup, half arbitrary bytes.
      const std::string alphabet = "abc: -[]{},\"'\n\t #&*!|>%@`0123456789.GB/s";
      for (int k = 0; k < n; ++k) f.put(i % 2 ? char(rng() % 256) : alphabet[rng() % alphabet.size()]);
    }
    const auto r = RunShell("cd '" + dir.string() + "' && '" PF_BIN "' check r.yaml 2>&1 >/dev/null");
    EXPECT_EQ(r.exit_code, 2) << "case " << i << ": " << r.out;
    EXPECT_EQ(r.out.find("AddressSanitizer"), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find("runtime error"), std::string::npos) << r.out;
  }
  fs::remove_all(dir);
}

}  // namespace
