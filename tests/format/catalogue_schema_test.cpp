// The catalogue as a trace file stores it: parameter variants survive the
// round trip, and a header whose variants are hostile is refused with one
// line, never a crash.

#include <capnp/message.h>
#include <gtest/gtest.h>

#include <functional>
#include <string>

#include "format/metadata.h"
#include "format/schema_convert.h"

namespace traceloop::format {
namespace {

TraceMetadata with_catalogue(Catalogue catalogue) {
  TraceMetadata m;
  m.catalogue = std::move(catalogue);
  return m;
}

// The header of `m`, changed by `mutate`, read back.
Result<TraceMetadata> through_schema(const TraceMetadata& m,
                                     const std::function<void(schema::Header::Builder)>& mutate = {}) {
  capnp::MallocMessageBuilder message;
  auto header = message.initRoot<schema::Header>();
  detail::to_schema(m, header);
  if (mutate) mutate(header);
  return detail::from_schema(header.asReader());
}

// The variants of prctl's arg2 in the stored header.
capnp::List<schema::ParamVariant>::Builder prctl_arg2_variants(schema::Header::Builder header) {
  for (auto s : header.getCatalogue().getSyscalls()) {
    if (header.getCatalogue().getStrings()[s.getName()] == "prctl") return s.getParams()[1].getVariants();
  }
  ADD_FAILURE() << "no prctl in the header";
  return header.getCatalogue().getSyscalls()[0].getParams()[0].getVariants();
}

TEST(CatalogueSchema, VariantsSurviveTheRoundTripOnBothArches) {
  for (const Arch arch : {Arch::x86_64, Arch::aarch64}) {
    const TraceMetadata m = with_catalogue(builtin_catalogue(arch));
    auto back = through_schema(m);
    ASSERT_TRUE(back.ok()) << back.error().message;
    EXPECT_EQ(back->catalogue, m.catalogue) << arch_name(arch);
    const SyscallSpec* prctl = back->catalogue.find("prctl");
    ASSERT_NE(prctl, nullptr);
    EXPECT_FALSE(prctl->params.at(1).variants.empty());
  }
}

TEST(CatalogueSchema, AHeaderWithoutVariantsReadsAsThePlainShapes) {
  const TraceMetadata m = with_catalogue(builtin_catalogue(Arch::x86_64));
  auto back = through_schema(m, [](schema::Header::Builder h) {
    for (auto s : h.getCatalogue().getSyscalls())
      for (auto p : s.getParams()) p.disownVariants();  // as a minor 1 writer leaves them
  });
  ASSERT_TRUE(back.ok()) << back.error().message;
  const SyscallSpec* prctl = back->catalogue.find("prctl");
  ASSERT_NE(prctl, nullptr);
  EXPECT_TRUE(prctl->params.at(1).variants.empty());
  EXPECT_EQ(prctl->params.at(1).kind, ArgKind::hex);
  const uint64_t args[6] = {15, 0x1000};
  EXPECT_EQ(&shape_for(prctl->params.at(1), args), &prctl->params.at(1));
}

TEST(CatalogueSchema, HostileVariantsAreRefused) {
  const TraceMetadata m = with_catalogue(builtin_catalogue(Arch::x86_64));
  struct Case {
    const char* what;
    std::function<void(schema::Header::Builder)> mutate;
    const char* error;
  };
  const Case cases[] = {
      {"selector beyond the parameters", [](auto h) { prctl_arg2_variants(h)[0].setSelector(5); },
       "variant chosen by an argument it does not have"},
      {"selector far out", [](auto h) { prctl_arg2_variants(h)[0].setSelector(255); },
       "variant chosen by an argument it does not have"},
      {"selected by itself", [](auto h) { prctl_arg2_variants(h)[0].setSelector(1); },
       "variant chosen by an argument it does not have"},
      {"unknown kind", [](auto h) { prctl_arg2_variants(h)[0].setKind(static_cast<schema::ArgKind>(200)); },
       "variant has an unknown argument kind"},
      {"length argument out of range", [](auto h) { prctl_arg2_variants(h)[0].setLenArg(9); },
       "variant has a length argument out of range"},
      {"string index out of range", [](auto h) { prctl_arg2_variants(h)[0].setFlagSet(60000); },
       "catalogue refers to a string it does not have"},
      {"too many values", [](auto h) { prctl_arg2_variants(h)[0].initValues(kMaxVariantValues + 1); },
       "variant with too many values"},
      {"too many variants",
       [](auto h) {
         for (auto s : h.getCatalogue().getSyscalls())
           if (h.getCatalogue().getStrings()[s.getName()] == "prctl")
             s.getParams()[1].initVariants(kMaxParamVariants + 1);
       },
       "too many variants"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    auto back = through_schema(m, c.mutate);
    ASSERT_FALSE(back.ok());
    EXPECT_NE(back.error().message.find(c.error), std::string::npos) << back.error().message;
  }
}

}  // namespace
}  // namespace traceloop::format
