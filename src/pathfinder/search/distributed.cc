// Single-process and Open MPI ranks (see distributed.h).
#include "pathfinder/search/distributed.h"

#include <algorithm>
#include <cstdlib>

#include "pathfinder/core/check.h"

#ifdef PF_HAVE_MPI
#include <mpi.h>
#endif

namespace pf::search {
namespace {

class Single final : public Comm {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  std::vector<std::string> Gather(const std::string& mine) override { return {mine}; }
  std::string Broadcast(const std::string& from_root) override { return from_root; }
};

#ifdef PF_HAVE_MPI
class Mpi final : public Comm {
 public:
  Mpi() {
    int provided = 0;
    MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
    MPI_Comm_size(MPI_COMM_WORLD, &size_);
  }
  ~Mpi() override { MPI_Finalize(); }
  int rank() const override { return rank_; }
  int size() const override { return size_; }

  std::vector<std::string> Gather(const std::string& mine) override {
    PF_CHECK(mine.size() < size_t(1) << 31, "one gather is limited to 2 GiB per rank ({} bytes)", mine.size());
    int len = int(mine.size());
    std::vector<int> lens(size_t(size_), 0), offsets(size_t(size_), 0);
    MPI_Gather(&len, 1, MPI_INT, lens.data(), 1, MPI_INT, 0, MPI_COMM_WORLD);
    std::string all;
    if (rank_ == 0) {
      long total = 0;
      for (int r = 0; r < size_; ++r) {
        offsets[size_t(r)] = int(total);
        total += lens[size_t(r)];
      }
      PF_CHECK(total < long(1) << 31, "gathered batch too large ({} bytes)", total);
      all.resize(size_t(total));
    }
    MPI_Gatherv(mine.data(), len, MPI_CHAR, all.data(), lens.data(), offsets.data(), MPI_CHAR, 0, MPI_COMM_WORLD);
    std::vector<std::string> out;
    if (rank_ == 0)
      for (int r = 0; r < size_; ++r) out.push_back(all.substr(size_t(offsets[size_t(r)]), size_t(lens[size_t(r)])));
    return out;
  }

  std::string Broadcast(const std::string& from_root) override {
    long len = long(from_root.size());
    MPI_Bcast(&len, 1, MPI_LONG, 0, MPI_COMM_WORLD);
    std::string s = rank_ == 0 ? from_root : std::string(size_t(len), '\0');
    // MPI counts are int; send in pieces of at most 1 GiB.
    for (long off = 0; off < len; off += long(1) << 30) {
      const int n = int(std::min<long>(len - off, long(1) << 30));
      MPI_Bcast(s.data() + off, n, MPI_CHAR, 0, MPI_COMM_WORLD);
    }
    return s;
  }

 private:
  int rank_ = 0, size_ = 1;
};

// Environment variables that Open MPI, PMIx, MPICH/Hydra and Slurm set in each rank.
bool LaunchedByMpi() {
  for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE"})
    if (std::getenv(v) != nullptr) return true;
  return false;
}
#endif

}  // namespace

std::unique_ptr<Comm> SingleProcess() { return std::make_unique<Single>(); }

std::unique_ptr<Comm> WorldComm() {
#ifdef PF_HAVE_MPI
  if (LaunchedByMpi()) return std::make_unique<Mpi>();
#endif
  return SingleProcess();
}

bool BuiltWithMpi() {
#ifdef PF_HAVE_MPI
  return true;
#else
  return false;
#endif
}

}  // namespace pf::search
