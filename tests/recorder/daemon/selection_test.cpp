#include "recorder/daemon/selection.h"

#include <gtest/gtest.h>

namespace traceloop::daemon {
namespace {

format::ContainerInfo docker_web() {
  format::ContainerInfo c;
  c.id = "3f1c9a";
  c.name = "my-web-1";
  c.container_name = "my-web-1";
  c.runtime = "docker";
  c.runtime_namespace = "moby";
  c.image = "bb:local";
  c.labels = {{"app", "demo"}, {"tier", "web"}};
  return c;
}

format::ContainerInfo kubernetes_nginx() {
  format::ContainerInfo c;
  c.id = "9e0d";
  c.name = "nginx";
  c.container_name = "nginx";
  c.pod_name = "web-0";
  c.pod_namespace = "shop";
  c.runtime = "containerd";
  c.runtime_namespace = "k8s.io";
  c.image = "docker.io/library/nginx:1.25";
  return c;
}

TEST(Selection, EmptyChoosesEveryContainer) {
  Selection s;
  EXPECT_TRUE(s.empty());
  EXPECT_TRUE(s.matches(docker_web()));
  EXPECT_TRUE(s.matches(format::ContainerInfo{}));
  EXPECT_EQ(describe(s), "every container");
}

TEST(Selection, ValuesOfOneKindAreAlternativesAndKindsMustAllHold) {
  Selection s;
  s.namespaces = {"other", "shop"};
  EXPECT_TRUE(s.matches(kubernetes_nginx()));
  EXPECT_FALSE(s.matches(docker_web()));
  s.pods = {"web-1"};
  EXPECT_FALSE(s.matches(kubernetes_nginx()));
  s.pods = {"web-0"};
  EXPECT_TRUE(s.matches(kubernetes_nginx()));
}

TEST(Selection, NamespaceFallsBackToTheEngines) {
  Selection s;
  s.namespaces = {"moby"};
  EXPECT_TRUE(s.matches(docker_web()));
  s.namespaces = {"k8s.io"};
  EXPECT_TRUE(s.matches(kubernetes_nginx()));
}

TEST(Selection, ContainerByNameOrId) {
  Selection s;
  s.containers = {"my-web-1"};
  EXPECT_TRUE(s.matches(docker_web()));
  EXPECT_FALSE(s.matches(kubernetes_nginx()));
  s.containers = {"9e0d"};
  EXPECT_TRUE(s.matches(kubernetes_nginx()));
  s.containers = {"my-web"};  // names match whole, never as a prefix
  EXPECT_FALSE(s.matches(docker_web()));
}

TEST(Selection, EveryLabelMustBePresent) {
  Selection s;
  s.labels = {{"app", "demo"}};
  EXPECT_TRUE(s.matches(docker_web()));
  s.labels = {{"app", "demo"}, {"tier", "db"}};
  EXPECT_FALSE(s.matches(docker_web()));
  s.labels = {{"app", "dem"}};
  EXPECT_FALSE(s.matches(docker_web()));
}

TEST(Selection, ImagesMatchWithDockerHubsImplicitParts) {
  Selection s;
  s.images = {"nginx:1.25"};
  EXPECT_TRUE(s.matches(kubernetes_nginx()));
  s.images = {"nginx"};  // means nginx:latest
  EXPECT_FALSE(s.matches(kubernetes_nginx()));
  s.images = {"bb:local"};
  EXPECT_TRUE(s.matches(docker_web()));
  format::ContainerInfo busybox = docker_web();
  busybox.image = "busybox";
  s.images = {"docker.io/library/busybox:latest"};
  EXPECT_TRUE(s.matches(busybox));
  s.images = {"quay.io/busybox"};
  EXPECT_FALSE(s.matches(busybox));
  s.images = {"localhost/busybox"};
  EXPECT_FALSE(s.matches(busybox));
}

TEST(Selection, AContainerWithoutMetadataMatchesNoCriterion) {
  format::ContainerInfo unknown;
  unknown.id = "x";
  for (Selection s : {Selection{{"ns"}, {}, {}, {}, {}}, Selection{{}, {"pod"}, {}, {}, {}},
                      Selection{{}, {}, {}, {{"a", "b"}}, {}}, Selection{{}, {}, {}, {}, {"img"}}})
    EXPECT_FALSE(s.matches(unknown)) << describe(s);
}

TEST(Selection, WordsRoundTrip) {
  Selection s;
  s.namespaces = {"shop"};
  s.pods = {"web-0", "web-1"};
  s.containers = {"nginx"};
  s.labels = {{"app", "a=b"}};
  s.images = {"nginx:1.25"};
  auto words = selection_words(s);
  EXPECT_EQ(words.size(), 6u);
  auto back = parse_selection_words(words);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(*back, s);
  EXPECT_EQ(describe(s), "namespace=shop pod=web-0,web-1 container=nginx label=app=a=b image=nginx:1.25");
}

TEST(Selection, BadWordsAreRefused) {
  for (const char* bad : {"namespace", "namespace=", "colour=red", "label=novalue", "label==x"})
    EXPECT_FALSE(parse_selection_words({bad}).ok()) << bad;
  EXPECT_FALSE(parse_label("app").ok());
  EXPECT_FALSE(parse_label("=x").ok());
  auto empty_value = parse_label("app=");
  ASSERT_TRUE(empty_value.ok());
  EXPECT_EQ(empty_value->second, "");
}

TEST(Selection, DisplayName) {
  EXPECT_EQ(display_name(docker_web()), "my-web-1");
  format::ContainerInfo bare;
  bare.id = "ctr-c1";
  EXPECT_EQ(display_name(bare), "ctr-c1");
}

}  // namespace
}  // namespace traceloop::daemon
