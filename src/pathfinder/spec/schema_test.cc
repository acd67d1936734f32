// Schema: loading with all errors at once, provenance, and the field table.
#include "pathfinder/spec/schema.h"

#include <gtest/gtest.h>

#include "pathfinder/spec/file.h"

namespace pf::spec {
namespace {

struct Mem {
  Bytes capacity;
  BytesPerSec bandwidth;
  int stacks = 0;
  std::string generation;
};
struct Dev {
  std::string name;
  Mem mem;
  bool fast = false;
  double ratio = 0;
};

std::shared_ptr<const Schema<Dev>> DevSchema() {
  auto mem = std::make_shared<Schema<Mem>>("mem");
  mem->Quantity("capacity", &Mem::capacity, "capacity", Bounds<Bytes>::Positive())
      .Quantity("bandwidth", &Mem::bandwidth, "bandwidth", Bounds<BytesPerSec>::Positive())
      .Integer("stacks", &Mem::stacks, "stacks", 1, 16)
      .Text("generation", &Mem::generation, "generation");
  auto dev = std::make_shared<Schema<Dev>>("dev");
  dev->Text("name", &Dev::name, "name").Required();
  dev->Nested("mem", &Dev::mem, std::shared_ptr<const Schema<Mem>>(mem), "memory");
  dev->Flag("fast", &Dev::fast, "fast");
  dev->Number("ratio", &Dev::ratio, "a ratio", 0, 1);
  return dev;
}

struct Loaded {
  Dev dev;
  Diagnostics diag;
  ProvenanceMap prov;
};

Loaded Load(const std::string& yaml) {
  Loaded l;
  LoadContext ctx{"t.yaml", "default source", &l.diag, &l.prov};
  YAML::Node n = YAML::Load(yaml);
  auto s = DevSchema();
  s->Load(n, l.dev, ctx, "");
  s->CheckRequired({n}, n, "", ctx);
  return l;
}

TEST(Schema, LoadsValuesWithUnits) {
  auto l = Load("name: x\nmem: {capacity: 80 GB, bandwidth: 3.35 TB/s, stacks: 5}\nfast: true\nratio: 0.5\n");
  ASSERT_FALSE(l.diag.has_errors()) << l.diag.Render();
  EXPECT_DOUBLE_EQ(l.dev.mem.capacity.value(), 80e9);
  EXPECT_DOUBLE_EQ(l.dev.mem.bandwidth.value(), 3.35e12);
  EXPECT_EQ(l.dev.mem.stacks, 5);
  EXPECT_TRUE(l.dev.fast);
}

TEST(Schema, ReportsEveryProblemAtOnceWithPositions) {
  auto l = Load("mem:\n  capacity: -80 GB\n  bandwith: 3 TB/s\n  stacks: 40\nratio: 2\nfast: yes\n");
  EXPECT_EQ(l.diag.Render(),
            "t.yaml:2:13: error: mem.capacity: -80 GB is out of range; allowed: > 0 B\n"
            "t.yaml:3:3: error: mem.bandwith: unknown key; did you mean 'bandwidth'?\n"
            "t.yaml:4:11: error: mem.stacks: 40 is out of range; allowed: 1 … 16\n"
            "t.yaml:5:8: error: ratio: 2 is out of range; allowed: 0 … 1\n"
            "t.yaml:6:7: error: fast: expected true or false, got 'yes'\n"
            "t.yaml:1:1: error: name: missing; add it (name)\n"
            "6 errors; nothing was simulated.\n");
}

TEST(Schema, AKeyWrittenTwiceIsAnErrorAtTheSecond) {
  auto l = Load("name: x\nmem: {stacks: 4, stacks: 8}\nname: y\n");
  EXPECT_EQ(l.diag.Render(),
            "t.yaml:2:18: error: mem.stacks: written twice (first at line 2, column 7); YAML keeps one of them, so "
            "delete the other\n"
            "t.yaml:3:1: error: name: written twice (first at line 1, column 1); YAML keeps one of them, so delete "
            "the other\n"
            "2 errors; nothing was simulated.\n");
}

// Whatever a field's own bounds, a quantity beyond 10^-18 … 10^24 of its base unit is a
// typo of prefix or exponent, refused before any simulator turns it into inf or nan.
TEST(Schema, AQuantityOfAbsurdMagnitudeIsRefused) {
  auto l = Load("name: x\nmem: {capacity: 1e308 GB, bandwidth: 1e-308 TB/s}\n");
  EXPECT_EQ(l.diag.error_count(), 2) << l.diag.Render();
  EXPECT_NE(l.diag.Render().find("mem.capacity: 1e308 GB is outside the magnitudes the models work in"),
            std::string::npos)
      << l.diag.Render();
  auto ok = Load("name: x\nmem: {capacity: 1e-15 GB, bandwidth: 1e12 TB/s}\n");  // 1 µB and 1 EB/s: in range
  EXPECT_FALSE(ok.diag.has_errors()) << ok.diag.Render();
}

TEST(Schema, BareNumberWhereAUnitIsDueIsAnError) {
  auto l = Load("name: x\nmem: {bandwidth: 400}\n");
  EXPECT_EQ(l.diag.Render(),
            "t.yaml:2:18: error: mem.bandwidth: 400 has no unit; write e.g. \"3.35 TB/s\"\n"
            "1 error; nothing was simulated.\n");
}

TEST(Schema, SourcedValuesRecordTheirSource) {
  auto l = Load("name: x\nmem:\n  capacity: {value: 80 GB, source: datasheet, estimate: true}\n  stacks: 5\n");
  ASSERT_FALSE(l.diag.has_errors()) << l.diag.Render();
  EXPECT_EQ(l.prov.at("mem.capacity").source, "datasheet");
  EXPECT_TRUE(l.prov.at("mem.capacity").estimate);
  EXPECT_EQ(l.prov.at("mem.stacks").source, "default source");
  EXPECT_EQ(l.prov.at("mem.stacks").where.line, 4);
}

TEST(Schema, DescribeListsEveryFieldWithUnitAndRange) {
  std::vector<FieldDoc> docs;
  DevSchema()->Describe("", &docs);
  ASSERT_EQ(docs.size(), 8u);
  EXPECT_EQ(docs[2].path, "mem.capacity");
  EXPECT_EQ(docs[2].unit, "size");
  EXPECT_EQ(docs[2].range, "> 0 B");
  EXPECT_EQ(docs[0].default_text, "required");
}

// The text under the schema: a file saved with lone-CR line endings loaded as "no settings"
// (yaml-cpp read it as one comment line), and a second document after `---` was dropped.
TEST(ParseYaml, LoneCrEndsALineAndASecondDocumentIsAnError) {
  Diagnostics d;
  auto cr = ParseYaml("# a comment\rname: x\rmem: {stacks: 4}\r", "cr.yaml", d);
  ASSERT_TRUE(cr) << d.Render();
  EXPECT_EQ((*cr)["name"].as<std::string>(), "x");
  EXPECT_EQ((*cr)["mem"]["stacks"].Mark().line, 2);  // the third line, as its editor shows it
  auto crlf = ParseYaml("name: x\r\nmem: {stacks: 4}\r\n", "crlf.yaml", d);
  ASSERT_TRUE(crlf) << d.Render();
  EXPECT_EQ((*crlf)["mem"]["stacks"].as<int>(), 4);
  EXPECT_TRUE(ParseYaml("---\nname: x\n---\n", "one.yaml", d)) << d.Render();  // markers around one document
  EXPECT_FALSE(d.has_errors());
  EXPECT_FALSE(ParseYaml("name: x\n---\nname: y\n", "two.yaml", d));
  EXPECT_NE(d.Render().find("two.yaml:3:1: error: a second YAML document (after '---')"), std::string::npos)
      << d.Render();
}

}  // namespace
}  // namespace pf::spec
