// The dataset registry on its own: copies kept by site, a job's named
// inputs resolved from them (others' tenants never), what a restarted
// server reads back, and a damaged record named rather than skipped.
#include "control/server/dataset_book.h"

#include <gtest/gtest.h>

#include "control/store/memory_store.h"

namespace stargate::control {
namespace {

DatasetCopy At(const std::string& site, double bytes) { return DatasetCopy{site, bytes, "/data/" + site, {}, "t"}; }

// Registers through the book as the control plane does: stage, commit, apply.
void Register(MemoryStore& store, DatasetBook& book, const std::string& tenant, const std::string& name,
              DatasetCopy copy) {
  StatusOr<Dataset> d = book.WithCopy(tenant, name, std::move(copy));
  ASSERT_TRUE(d.ok()) << d.status().message();
  Txn txn;
  book.Stage(txn, *d);
  ASSERT_TRUE(store.Commit(txn).ok());
  book.Apply(*d);
}

TEST(DatasetBook, ResolvesAJobsNamedInputsFromItsTenantsCopies) {
  MemoryStore store;
  DatasetBook book(&store);
  Register(store, book, "ml", "corpus", At("b", 2e12));
  Register(store, book, "ml", "corpus", At("a", 1e12));
  Register(store, book, "vision", "images", At("c", 5e12));
  JobSpec spec;
  spec.tenant = "ml";
  spec.inputs = {DataInput{"corpus", 0, {}}, DataInput{"images", 0, {}}, DataInput{"inline", 3e12, {"d"}}};
  EXPECT_EQ(book.Resolve(spec.tenant, spec.inputs), std::vector<std::string>{"images"});  // vision's: not ml's to name
  EXPECT_EQ(spec.inputs[0].sites, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(spec.inputs[0].bytes, 2e12);  // the largest copy
  EXPECT_TRUE(spec.inputs[1].sites.empty());
  EXPECT_EQ(spec.inputs[2].sites, std::vector<std::string>{"d"});  // given in the file: as it was
  // A restarted server reads the same back.
  DatasetBook again(&store);
  ASSERT_TRUE(again.Load().ok());
  ASSERT_NE(again.Find("ml", "corpus"), nullptr);
  EXPECT_EQ(again.Find("ml", "corpus")->copies.size(), 2u);
  EXPECT_EQ(again.Find("ml", "corpus")->copies[1].path, "/data/b");
  EXPECT_EQ(again.List("").size(), 2u);
  EXPECT_EQ(again.List("vision").size(), 1u);
  // Without its last copy a dataset is gone, from the store too.
  StatusOr<Dataset> d = again.WithoutCopy("vision", "images", "c");
  ASSERT_TRUE(d.ok());
  Txn txn;
  again.Stage(txn, *d);
  ASSERT_TRUE(store.Commit(txn).ok());
  again.Apply(*d);
  EXPECT_EQ(again.Find("vision", "images"), nullptr);
  EXPECT_EQ(store.List("datasets/vision/").value().size(), 0u);
  EXPECT_EQ(again.WithoutCopy("vision", "images", "").status().code(), absl::StatusCode::kNotFound);
}

TEST(DatasetBook, RefusesBadCopiesAndTooManyOnes) {
  MemoryStore store;
  DatasetBook book(&store);
  EXPECT_EQ(book.WithCopy("ml", "c", At("", 1)).status().message(), "site: 1-128 characters");
  EXPECT_EQ(book.WithCopy("ml", "c", At("a", 0)).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(book.WithCopy("m/l", "c", At("a", 1)).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(book.WithCopy("ml", "", At("a", 1)).status().code(), absl::StatusCode::kInvalidArgument);
  for (size_t i = 0; i < DatasetBook::kMaxCopies; ++i) Register(store, book, "ml", "c", At("s" + std::to_string(i), 1));
  EXPECT_EQ(book.WithCopy("ml", "c", At("one-more", 1)).status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(book.WithCopy("ml", "c", At("s7", 2)).ok());  // replacing one is no more
}

TEST(DatasetBook, ADamagedRecordIsNamed) {
  MemoryStore store;
  ASSERT_TRUE(store.Put("datasets/ml/corpus", "{\"copies\": [{\"site\": 3}]}").ok());
  DatasetBook book(&store);
  const Status st = book.Load();
  EXPECT_EQ(st.code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(std::string(st.message()).find("store key datasets/ml/corpus"), std::string::npos) << st.message();
}

}  // namespace
}  // namespace stargate::control
