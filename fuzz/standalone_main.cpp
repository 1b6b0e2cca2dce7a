// A main() for the fuzz targets where libFuzzer is not available (GCC builds, the ctest run): it
// runs every file of the corpus given, then a bounded number of pseudo-random mutations of them,
// the same sequence for the same seed. A failing input (a broken invariant aborts, or a crash) is
// saved as <artifact_prefix>crash-<hash> before the process dies with the signal; the exit status
// is then nonzero. Flags follow libFuzzer's spelling, so one command line suits both:
//
//   fuzz_smtp [-runs=N] [-seed=S] [-max_len=L] [-max_total_time=SEC] [-timeout=SEC]
//             [-dict=FILE] [-artifact_prefix=DIR/] CORPUS_DIR_OR_FILE...
//
// -runs: mutations after the corpus (default 20000); -max_total_time: stop mutating after this
// many seconds even if runs remain (0: no limit); -timeout: a single input running longer is a
// failure (default 10).
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {

// What the signal handler needs, prepared before each run: the input and where to save it.
const std::string* g_current = nullptr;
char g_artifact[4096];
char g_what[512];

void write_all(int fd, const char* data, std::size_t size) {
  while (size > 0) {
    const ssize_t n = ::write(fd, data, size);
    if (n <= 0) return;
    data += n;
    size -= static_cast<std::size_t>(n);
  }
}

void write_str(int fd, const char* s) { write_all(fd, s, std::strlen(s)); }

// Async-signal-safe: open/write/close and re-raising only.
extern "C" void on_fatal_signal(int sig) {
  if (sig == SIGALRM) write_str(2, "\nstandalone: the input ran longer than -timeout\n");
  write_str(2, "\nstandalone: failed on ");
  write_str(2, g_what);
  if (g_current != nullptr) {
    const int fd = ::open(g_artifact, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
      write_all(fd, g_current->data(), g_current->size());
      ::close(fd);
      write_str(2, "\nstandalone: input saved to ");
      write_str(2, g_artifact);
    }
  }
  write_str(2, "\n");
  std::signal(sig == SIGALRM ? SIGABRT : sig, SIG_DFL);
  std::raise(sig == SIGALRM ? SIGABRT : sig);
}

std::uint64_t fnv1a(std::string_view bytes) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (const char c : bytes) h = (h ^ static_cast<unsigned char>(c)) * 0x100000001b3ULL;
  return h;
}

class Random {
 public:
  explicit Random(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next() {
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  std::size_t below(std::size_t n) { return n == 0 ? 0 : static_cast<std::size_t>(next() % n); }

 private:
  std::uint64_t state_;
};

struct Options {
  std::uint64_t runs = 20000;
  std::uint64_t seed = 1;
  std::size_t max_len = 4096;
  double max_total_time = 0;
  unsigned timeout = 10;
  std::string artifact_prefix = "./";
  std::vector<std::string> dicts;
  std::vector<std::string> paths;
};

bool flag(std::string_view arg, std::string_view name, std::string_view& value) {
  if (!arg.starts_with(name) || arg.size() <= name.size() || arg[name.size()] != '=') return false;
  value = arg.substr(name.size() + 1);
  return true;
}

// libFuzzer dictionary lines: [name=]"value" with \\, \" and \xNN escapes; # comments.
std::vector<std::string> read_dict(const std::string& path) {
  std::vector<std::string> tokens;
  std::ifstream file(path);
  for (std::string line; std::getline(file, line);) {
    const auto open = line.find('"');
    const auto close = line.rfind('"');
    if (line.empty() || line[0] == '#' || open == std::string::npos || close <= open) continue;
    std::string token;
    for (std::size_t i = open + 1; i < close; ++i) {
      if (line[i] != '\\' || i + 1 >= close) {
        token += line[i];
      } else if (line[i + 1] == 'x' && i + 3 < close) {
        token += static_cast<char>(std::stoi(line.substr(i + 2, 2), nullptr, 16));
        i += 3;
      } else {
        token += line[++i];
      }
    }
    if (!token.empty()) tokens.push_back(token);
  }
  return tokens;
}

// Words and whole lines of the corpus, as more tokens to insert.
void corpus_tokens(const std::vector<std::string>& corpus, std::vector<std::string>& tokens) {
  for (const auto& input : corpus) {
    std::size_t at = 4;  // past the control bytes
    while (at < input.size() && tokens.size() < 4000) {
      const auto end = input.find_first_of(" \r\n", at);
      const auto stop = end == std::string::npos ? input.size() : end;
      if (stop > at && stop - at <= 40) tokens.push_back(input.substr(at, stop - at));
      at = stop + 1;
    }
  }
  std::sort(tokens.begin(), tokens.end());
  tokens.erase(std::unique(tokens.begin(), tokens.end()), tokens.end());
}

constexpr std::string_view kNumbers[] = {"0",
                                         "1",
                                         "2",
                                         "7",
                                         "255",
                                         "256",
                                         "1000",
                                         "4096",
                                         "65535",
                                         "65536",
                                         "2147483647",
                                         "2147483648",
                                         "4294967295",
                                         "4294967296",
                                         "99999",
                                         "-1",
                                         "1000000000",
                                         "18446744073709551615",
                                         "99999999999999999999999"};

void mutate(std::string& data, Random& random, const std::vector<std::string>& corpus,
            const std::vector<std::string>& tokens, std::size_t max_len) {
  const auto pos = [&](std::size_t extra) { return random.below(data.size() + extra); };
  switch (random.below(11)) {
    case 0:  // flip a bit
      if (!data.empty()) data[pos(0)] ^= static_cast<char>(1U << random.below(8));
      break;
    case 1: {  // an interesting byte
      static constexpr char kBytes[] = {'\0', '\xff', '\r', '\n', ' ', '.', '{', '}',
                                        '"',  '(',    ')',  '*',  '+', '0', '9', '\x80'};
      if (!data.empty()) data[pos(0)] = kBytes[random.below(sizeof kBytes)];
      break;
    }
    case 2:  // delete a range
      if (!data.empty()) {
        const auto at = pos(0);
        data.erase(at, 1 + random.below(std::min<std::size_t>(32, data.size() - at)));
      }
      break;
    case 3: {  // insert random bytes
      std::string bytes(1 + random.below(8), '\0');
      for (auto& c : bytes) c = static_cast<char>(random.next());
      data.insert(pos(1), bytes);
      break;
    }
    case 4:  // repeat a range
      if (!data.empty()) {
        const auto at = pos(0);
        const auto n = 1 + random.below(std::min<std::size_t>(64, data.size() - at));
        const std::string chunk = data.substr(at, n);
        for (std::size_t times = 1 + random.below(4); times > 0; --times)
          data.insert(pos(1), chunk);
      }
      break;
    case 5:
    case 6:  // insert or overwrite with a token
      if (!tokens.empty()) {
        const auto& token = tokens[random.below(tokens.size())];
        const auto at = pos(1);
        if (random.below(2) == 0 || at + token.size() > data.size())
          data.insert(at, token);
        else
          data.replace(at, token.size(), token);
      }
      break;
    case 7:  // splice with another input
      if (!corpus.empty()) {
        const auto& other = corpus[random.below(corpus.size())];
        data = data.substr(0, pos(1)) + other.substr(random.below(other.size() + 1));
      }
      break;
    case 8:  // a new control byte: another listener, policy or way of cutting the stream
      if (data.size() >= 4) data[random.below(4)] = static_cast<char>(random.next());
      break;
    case 9: {  // a number replaced by an interesting one
      const auto digit = data.find_first_of("0123456789", pos(0));
      if (digit != std::string::npos) {
        const auto end = data.find_first_not_of("0123456789", digit);
        const auto n = (end == std::string::npos ? data.size() : end) - digit;
        data.replace(digit, n, kNumbers[random.below(std::size(kNumbers))]);
      }
      break;
    }
    default:  // cut short
      data.resize(pos(1));
      break;
  }
  if (data.size() > max_len) data.resize(max_len);
}

void run_one(const std::string& input, unsigned timeout) {
  g_current = &input;
  std::snprintf(g_artifact + std::strlen(g_artifact) - 16, 17, "%016llx",
                static_cast<unsigned long long>(fnv1a(input)));
  if (timeout != 0) ::alarm(timeout);
  LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(input.data()), input.size());
  if (timeout != 0) ::alarm(0);
  g_current = nullptr;
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    std::string_view value;
    if (flag(arg, "-runs", value)) {
      options.runs = std::stoull(std::string(value));
    } else if (flag(arg, "-seed", value)) {
      options.seed = std::stoull(std::string(value));
    } else if (flag(arg, "-max_len", value)) {
      options.max_len = std::stoull(std::string(value));
    } else if (flag(arg, "-max_total_time", value)) {
      options.max_total_time = std::stod(std::string(value));
    } else if (flag(arg, "-timeout", value)) {
      options.timeout = static_cast<unsigned>(std::stoul(std::string(value)));
    } else if (flag(arg, "-dict", value)) {
      options.dicts.emplace_back(value);
    } else if (flag(arg, "-artifact_prefix", value)) {
      options.artifact_prefix = value;
    } else if (arg.starts_with("-")) {
      std::fprintf(stderr, "standalone: ignoring unknown flag %s\n", argv[i]);
    } else {
      options.paths.emplace_back(arg);
    }
  }

  // The corpus, in a stable order.
  std::vector<std::string> names;
  for (const auto& path : options.paths) {
    std::error_code error;
    if (std::filesystem::is_directory(path, error)) {
      for (const auto& entry : std::filesystem::directory_iterator(path, error))
        if (entry.is_regular_file() && !entry.path().filename().string().starts_with("."))
          names.push_back(entry.path().string());
    } else if (std::filesystem::is_regular_file(path, error)) {
      names.push_back(path);
    } else {
      std::fprintf(stderr, "standalone: no such file or directory: %s\n", path.c_str());
      return 2;
    }
  }
  std::sort(names.begin(), names.end());
  if (names.empty()) {
    std::fprintf(stderr, "standalone: no corpus given: %s [flags] CORPUS_DIR...\n", argv[0]);
    return 2;
  }
  std::vector<std::string> corpus;
  for (const auto& name : names) {
    std::ifstream file(name, std::ios::binary);
    corpus.emplace_back(std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>());
  }

  const std::string artifact = options.artifact_prefix + "crash-0000000000000000";
  if (artifact.size() >= sizeof g_artifact) {
    std::fprintf(stderr, "standalone: -artifact_prefix is too long\n");
    return 2;
  }
  std::memcpy(g_artifact, artifact.c_str(), artifact.size() + 1);
  for (const int sig : {SIGABRT, SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGALRM})
    std::signal(sig, on_fatal_signal);

  const auto started = std::chrono::steady_clock::now();
  const auto elapsed = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  };
  for (std::size_t i = 0; i < corpus.size(); ++i) {
    std::snprintf(g_what, sizeof g_what, "corpus file %s", names[i].c_str());
    run_one(corpus[i], options.timeout);
  }
  const double corpus_seconds = elapsed();

  std::vector<std::string> tokens;
  for (const auto& dict : options.dicts) {
    auto more = read_dict(dict);
    tokens.insert(tokens.end(), more.begin(), more.end());
  }
  corpus_tokens(corpus, tokens);

  Random random(options.seed);
  std::uint64_t runs = 0;
  std::string input;
  for (; runs < options.runs; ++runs) {
    if (options.max_total_time > 0 && (runs & 63U) == 0 && elapsed() > options.max_total_time)
      break;
    const auto base = random.below(corpus.size());
    input = corpus[base];
    for (std::size_t n = 1 + random.below(4); n > 0; --n)
      mutate(input, random, corpus, tokens, options.max_len);
    std::snprintf(g_what, sizeof g_what, "mutation %llu (seed %llu) of %s",
                  static_cast<unsigned long long>(runs),
                  static_cast<unsigned long long>(options.seed), names[base].c_str());
    run_one(input, options.timeout);
  }
  std::printf(
      "standalone: %zu corpus inputs in %.2f s, %llu mutations (seed %llu) in %.2f s: all "
      "passed\n",
      corpus.size(), corpus_seconds, static_cast<unsigned long long>(runs),
      static_cast<unsigned long long>(options.seed), elapsed() - corpus_seconds);
  if (runs < options.runs)
    std::printf("standalone: stopped after -max_total_time=%g s, before -runs=%llu\n",
                options.max_total_time, static_cast<unsigned long long>(options.runs));
  return 0;
}
