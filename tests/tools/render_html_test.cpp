// tl-show --format html: the page opened in headless Chromium (the real
// browser, no network) on a recorded trace: it must draw one lane per
// thread of the trace, each with calls on it, seen in a screenshot; and a
// page of 100 000 calls must load quickly. The screenshots and pages stay
// in the build directory (tests/tools/render_html/) to be looked at.

#include <gtest/gtest.h>
#include <zlib.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "format/trace_reader.h"
#include "tests/support/child_process.h"
#include "tests/support/temp_dir.h"
#include "tests/tools/show_fixtures.h"
#include "tools/lib/decoder/show.h"

namespace traceloop::tools {
namespace {

namespace fs = std::filesystem;
constexpr const char* kChromium = "/usr/bin/chromium";

// Missing Chromium skips on a developer's machine, fails where every test must run.
bool chromium_required() {
  const char* bpf = std::getenv("TRACELOOP_REQUIRE_BPF");
  const char* ci = std::getenv("CI");
  return (bpf && std::string(bpf) == "1") || (ci && *ci);
}

fs::path artefacts() {
  const fs::path dir = fs::path(TRACELOOP_TEST_BINARY_DIR) / "tests" / "tools" / "render_html";
  fs::create_directories(dir);
  return dir;
}

void render(const fs::path& trace, const fs::path& page, bool setup = true) {
  ShowOptions options;
  options.path = trace.string();
  options.render.format = OutputFormat::html;
  options.show_setup = setup;
  std::ofstream out(page, std::ios::binary);
  std::ostringstream err;
  ASSERT_EQ(run_show(options, out, err), 0) << err.str();
}

std::vector<std::string> chromium(const fs::path& profile, std::vector<std::string> args) {
  std::vector<std::string> argv = {kChromium,
                                   "--headless",
                                   "--no-sandbox",
                                   "--disable-gpu",
                                   "--disable-quic",
                                   "--no-first-run",
                                   "--disable-background-networking",
                                   "--disable-component-update",
                                   "--disable-sync",
                                   "--hide-scrollbars",
                                   "--force-device-scale-factor=1",
                                   "--user-data-dir=" + profile.string()};
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

// What the page says it drew (data-* attributes of its canvas, after its script ran).
struct Drawn {
  int lanes = -1;
  int plot_left = 0;
  int lane_height = 0;
  std::vector<int> lane_tops;
  double load_ms = -1;
  std::string title;
};

Drawn read_dom(const std::string& dom) {
  Drawn d;
  std::smatch m;
  auto attribute = [&](const char* name) -> std::string {
    const std::regex re(std::string(name) + "=\"([^\"]*)\"");
    return std::regex_search(dom, m, re) ? m[1].str() : std::string();
  };
  if (auto v = attribute("data-lanes"); !v.empty()) d.lanes = std::stoi(v);
  if (auto v = attribute("data-plot-left"); !v.empty()) d.plot_left = std::stoi(v);
  if (auto v = attribute("data-lane-height"); !v.empty()) d.lane_height = std::stoi(v);
  if (auto v = attribute("data-load-ms"); !v.empty()) d.load_ms = std::stod(v);
  std::stringstream tops(attribute("data-lane-tops"));
  for (std::string top; std::getline(tops, top, ',');) d.lane_tops.push_back(std::stoi(top));
  if (std::regex_search(dom, m, std::regex("<title>([^<]*)</title>"))) d.title = m[1].str();
  return d;
}

// An 8-bit RGB or RGBA PNG, not interlaced (what Chromium writes), as RGB.
struct Image {
  uint32_t width = 0, height = 0;
  std::vector<uint8_t> rgb;
  uint32_t pixel(uint32_t x, uint32_t y) const {
    const uint8_t* p = &rgb[(size_t{y} * width + x) * 3];
    return uint32_t{p[0]} << 16 | uint32_t{p[1]} << 8 | p[2];
  }
};

uint32_t big_endian(const std::string& s, size_t at) {
  return uint32_t{uint8_t(s[at])} << 24 | uint32_t{uint8_t(s[at + 1])} << 16 | uint32_t{uint8_t(s[at + 2])} << 8 |
         uint8_t(s[at + 3]);
}

Result<Image> read_png(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (bytes.size() < 8 || bytes.compare(0, 8, "\x89PNG\r\n\x1a\n") != 0) return Error{"not a PNG"};
  Image image;
  int colour_type = -1, depth = 0, interlace = 0;
  std::string compressed;
  for (size_t at = 8; at + 12 <= bytes.size();) {
    const uint32_t length = big_endian(bytes, at);
    const std::string type = bytes.substr(at + 4, 4);
    if (at + 12 + length > bytes.size()) return Error{"PNG cut short"};
    const std::string data = bytes.substr(at + 8, length);
    if (type == "IHDR") {
      image.width = big_endian(data, 0);
      image.height = big_endian(data, 4);
      depth = uint8_t(data[8]);
      colour_type = uint8_t(data[9]);
      interlace = uint8_t(data[12]);
    } else if (type == "IDAT") {
      compressed += data;
    }
    at += 12 + length;
  }
  if (depth != 8 || (colour_type != 2 && colour_type != 6) || interlace != 0)
    return Error{"PNG of a kind this test does not read"};
  const size_t bpp = colour_type == 6 ? 4 : 3;
  const size_t stride = image.width * bpp;
  std::vector<uint8_t> raw((stride + 1) * image.height);
  uLongf raw_size = raw.size();
  if (uncompress(raw.data(), &raw_size, reinterpret_cast<const Bytef*>(compressed.data()), compressed.size()) != Z_OK ||
      raw_size != raw.size())
    return Error{"PNG data does not inflate"};
  std::vector<uint8_t> pixels(stride * image.height), previous(stride, 0);
  for (uint32_t y = 0; y < image.height; ++y) {
    const uint8_t filter = raw[y * (stride + 1)];
    const uint8_t* line = &raw[y * (stride + 1) + 1];
    uint8_t* out = &pixels[y * stride];
    for (size_t i = 0; i < stride; ++i) {
      const int a = i >= bpp ? out[i - bpp] : 0, b = previous[i], c = i >= bpp ? previous[i - bpp] : 0;
      int predicted = 0;
      switch (filter) {
        case 0: break;
        case 1: predicted = a; break;
        case 2: predicted = b; break;
        case 3: predicted = (a + b) / 2; break;
        case 4: {
          const int p = a + b - c, pa = std::abs(p - a), pb = std::abs(p - b), pc = std::abs(p - c);
          predicted = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
          break;
        }
        default: return Error{"unknown PNG filter"};
      }
      out[i] = static_cast<uint8_t>(line[i] + predicted);
    }
    std::copy(out, out + stride, previous.begin());
  }
  image.rgb.reserve(size_t{image.width} * image.height * 3);
  for (size_t i = 0; i < pixels.size(); i += bpp) image.rgb.insert(image.rgb.end(), &pixels[i], &pixels[i] + 3);
  return image;
}

// Threads with calls in the trace: what the page must draw a lane for.
size_t threads_in(const fs::path& trace) {
  auto reader = format::TraceReader::open(trace);
  EXPECT_TRUE(reader.ok());
  std::set<std::pair<uint32_t, uint32_t>> threads;
  for (const auto& record : reader->records())
    if (record.kind == format::Record::Kind::event) threads.emplace(record.event.pid, record.event.tid);
  return threads.size();
}

// Screenshots the page in a window of `height` and expects calls drawn in
// each of the first `lanes` lanes' bands, right of the labels.
void expect_lanes_drawn(const fs::path& page, const Drawn& drawn, size_t lanes, int height, const fs::path& shot) {
  const int width = 1200;
  fs::remove(shot);
  testing::TempDir profile;
  const auto run = testing::run_command(
      chromium(profile.path(), {"--screenshot=" + shot.string(),
                                "--window-size=" + std::to_string(width) + "," + std::to_string(height),
                                "file://" + page.string()}),
      std::chrono::seconds(120));
  ASSERT_TRUE(run.ok()) << run.output.substr(0, 4000);
  auto image = read_png(shot);
  ASSERT_TRUE(image.ok()) << image.error().message;
  ASSERT_EQ(image->width, uint32_t(width));
  // Calls are drawn in these colours (timeline.html's COLOURS).
  const std::set<uint32_t> call_colours = {0x4a78c2, 0xd9534f, 0xf0ad4e, 0x888888};
  for (size_t lane = 0; lane < lanes && lane < drawn.lane_tops.size(); ++lane) {
    const int top = drawn.lane_tops[lane];
    size_t coloured = 0;
    for (int y = top + 2; y < top + drawn.lane_height - 1 && y < int(image->height); ++y)
      for (int x = drawn.plot_left; x < width; ++x) coloured += call_colours.count(image->pixel(x, y));
    EXPECT_GT(coloured, 0u) << "lane " << lane << " (top " << top << ") shows no call in " << shot;
  }
}

class RenderHtml : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(kChromium)) {
      if (chromium_required()) FAIL() << kChromium << " missing (scripts/setup.sh installs chromium)";
      GTEST_SKIP() << kChromium << " missing (scripts/setup.sh installs chromium)";
    }
  }

  // --dump-dom: the page after its script ran (it draws synchronously, at load).
  Drawn open(const fs::path& page) {
    testing::TempDir profile;
    const auto dom = testing::run_command(chromium(profile.path(), {"--dump-dom", "file://" + page.string()}),
                                          std::chrono::seconds(120));
    EXPECT_TRUE(dom.ok()) << dom.output.substr(0, 4000);
    return read_dom(dom.output);
  }
};

TEST_F(RenderHtml, DrawsALaneWithCallsForEveryThreadOfARecordedTrace) {
  const fs::path trace = fs::path(TRACELOOP_TEST_SOURCE_DIR) / "testdata/analysis/real/container-ls.tl";
  const fs::path page = artefacts() / "container-ls.html";
  render(trace, page);
  const size_t threads = threads_in(trace);
  ASSERT_GE(threads, 3u);

  const Drawn drawn = open(page);
  ASSERT_EQ(drawn.lanes, static_cast<int>(threads)) << "page title: " << drawn.title;
  EXPECT_EQ(drawn.title, "traceloop timeline: " + std::to_string(threads) + " lanes");
  ASSERT_EQ(drawn.lane_tops.size(), threads);
  ASSERT_GT(drawn.lane_height, 4);

  // A window tall enough for every lane above the details panel.
  const int height = drawn.lane_tops.back() + drawn.lane_height + 100;
  expect_lanes_drawn(page, drawn, threads, height, artefacts() / "container-ls.png");
}

// So many threads that their lanes are taller than any canvas: the page
// draws the part in view, and draws it right.
TEST_F(RenderHtml, DrawsThousandsOfThreads) {
  testing::TempDir dir;
  auto metadata = testing::test_metadata();
  testing::EventBuilder b(metadata.catalogue);
  constexpr int kThreads = 3000;
  for (int i = 0; i < kThreads; ++i) b.as(1000, "worker", 1000 + i).call("getppid", {}, 1);
  const fs::path trace = dir / "threads.tl";
  testing::write_trace(trace, metadata, b);
  const fs::path page = artefacts() / "threads.html";
  render(trace, page);
  const Drawn drawn = open(page);
  ASSERT_EQ(drawn.lanes, kThreads);
  // The lanes of the first 800 pixels.
  size_t visible = 0;
  while (visible < drawn.lane_tops.size() && drawn.lane_tops[visible] + drawn.lane_height < 800 - 64) ++visible;
  ASSERT_GT(visible, 10u);
  expect_lanes_drawn(page, drawn, visible, 800, artefacts() / "threads.png");
}

// A container's runtime setup, hidden by default: its calls were rendered,
// then dropped; the page has no lane for the threads they came from.
TEST_F(RenderHtml, HasNoLaneForAHiddenSetup) {
  testing::TempDir dir;
  auto metadata = testing::test_metadata();
  metadata.containers[0].init_pid = 300;
  testing::EventBuilder b(metadata.catalogue);
  b.as(301, "runc:[1:CHILD]").call("close", {3}, 0);
  b.as(300, "runc:[2:INIT]").call("close", {4}, 0);
  b.call("execve", {0x4000, 0x4100, 0x4200}, 0).str(0, "/bin/sh").data(1, std::string("sh\0", 3));
  b.as(300, "sh").call("getpid", {}, 300);
  const fs::path trace = dir / "setup.tl";
  testing::write_trace(trace, metadata, b);
  const fs::path page = artefacts() / "setup.html";
  render(trace, page, false);
  const Drawn drawn = open(page);
  ASSERT_EQ(drawn.lanes, 1) << drawn.title;
  expect_lanes_drawn(page, drawn, 1, 400, artefacts() / "setup.png");
}

// The page answers the pointer: it shows a call's decoded line when pointed
// at, keeps it below when clicked, and the wheel zooms in around the
// pointer. Driven by a script the test appends to the page, sweeping the
// pointer along the first lane; what it saw goes into the title.
TEST_F(RenderHtml, PointingShowsTheDecodedCallClickingKeepsItTheWheelZooms) {
  testing::TempDir dir;
  auto metadata = testing::test_metadata();
  testing::EventBuilder b(metadata.catalogue);
  b.as(100, "cat").call("openat", {uint64_t(-100), 0x1000, 0}, 3).str(1, "/etc/passwd");
  b.call("close", {3}, 0);
  b.call("close", {3}, -9);
  const fs::path trace = dir / "pointer.tl";
  testing::write_trace(trace, metadata, b);
  const fs::path page = artefacts() / "pointer.html";
  render(trace, page);
  std::ofstream(page, std::ios::app) << R"JS(<script>
(function () {
  const canvas = document.getElementById('lanes'), tip = document.getElementById('tip');
  const r = canvas.getBoundingClientRect();
  const y = Number(canvas.dataset.laneTops.split(',')[0]) + Number(canvas.dataset.laneHeight) / 2;
  const at = x => ({ clientX: x, clientY: y, bubbles: true, cancelable: true });
  function sweep() {
    let hits = 0, first = null, text = '';
    for (let x = r.left + Number(canvas.dataset.plotLeft) + 1; x < r.right; x++) {
      canvas.dispatchEvent(new MouseEvent('mousemove', at(x)));
      if (tip.style.display !== 'block' || !tip.textContent.startsWith('openat(')) continue;
      hits++;
      if (first === null) { first = x; text = tip.textContent.split('\n')[0]; }
    }
    return { hits, first, text };
  }
  const before = sweep();
  canvas.dispatchEvent(new MouseEvent('mousedown', at(before.first)));
  canvas.dispatchEvent(new MouseEvent('mouseup', at(before.first)));
  const kept = document.getElementById('detail').textContent.split('\n')[0];
  canvas.dispatchEvent(new WheelEvent('wheel', Object.assign(at(before.first), { deltaY: -300 })));
  const after = sweep();
  document.title = [before.hits, after.hits, before.text, kept].join('|');
})();
</script>
)JS";
  testing::TempDir profile;
  const auto dom = testing::run_command(chromium(profile.path(), {"--dump-dom", "file://" + page.string()}),
                                        std::chrono::seconds(120));
  ASSERT_TRUE(dom.ok()) << dom.output.substr(0, 4000);
  const std::string title = read_dom(dom.output).title;
  std::smatch m;
  ASSERT_TRUE(std::regex_match(title, m, std::regex("([0-9]+)\\|([0-9]+)\\|([^|]*)\\|(.*)"))) << title;
  const int hits_before = std::stoi(m[1]), hits_after = std::stoi(m[2]);
  const std::string decoded = R"(openat(AT_FDCWD, "/etc/passwd", O_RDONLY) = 3)";
  EXPECT_GT(hits_before, 0) << title;
  EXPECT_GT(hits_after, hits_before) << "the wheel did not zoom in: " << title;
  EXPECT_EQ(m[3].str(), decoded) << title;
  EXPECT_EQ(m[4].str(), decoded) << title;
}

// 100 000 calls on 8 threads: the page parses and draws them in well under
// seconds (the time is the page's own, from navigation start to the first
// drawing; printed for the record).
TEST_F(RenderHtml, LoadsAHundredThousandCallsQuickly) {
  testing::TempDir dir;
  auto metadata = testing::test_metadata();
  testing::EventBuilder b(metadata.catalogue);
  for (int i = 0; i < 100'000; ++i) {
    b.as(1000, "worker", 1000 + i % 8);
    if (i % 3 == 0)
      b.call("openat", {uint64_t(-100), 0x1000, 0}, i % 5 == 0 ? -2 : 3).str(1, "/etc/some/file");
    else
      b.call("read", {3, 0x2000, 4096}, 4096);
  }
  const fs::path trace = dir / "big.tl";
  testing::write_trace(trace, metadata, b);
  const fs::path page = artefacts() / "hundred-thousand.html";
  render(trace, page);

  const auto started = std::chrono::steady_clock::now();
  const Drawn drawn = open(page);
  const auto elapsed = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started);
  ASSERT_EQ(drawn.lanes, 8);
  std::cout << "page of " << fs::file_size(page) / 1024 << " KiB: loaded and drawn in " << drawn.load_ms
            << " ms (Chromium run " << elapsed.count() << " ms)\n";
  EXPECT_GT(drawn.load_ms, 0);
  EXPECT_LT(drawn.load_ms, 5000) << "the page takes too long to load";
}

}  // namespace
}  // namespace traceloop::tools
