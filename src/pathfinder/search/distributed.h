// search/distributed: the ranks of a run. One process is one rank; under `mpirun -n N`
// (when built with Open MPI, PF_HAVE_MPI) there are N. Rank 0 (the root) owns the results
// store; every rank evaluates its share of the points and the root gathers them.
//
// MPI is initialised only when the process was started by an MPI launcher (its environment
// names a rank), so a plain `pathfinder sweep` never pays for MPI start-up.
#pragma once

#include <memory>
#include <string>
#include <vector>

namespace pf::search {

class Comm {
 public:
  virtual ~Comm() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  bool is_root() const { return rank() == 0; }

  // Every rank passes its bytes; the root gets all of them in rank order, others nothing.
  virtual std::vector<std::string> Gather(const std::string& mine) = 0;
  // The root's bytes, on every rank.
  virtual std::string Broadcast(const std::string& from_root) = 0;
};

// A run of one rank.
std::unique_ptr<Comm> SingleProcess();

// MPI_COMM_WORLD when built with MPI and started by mpirun/mpiexec; else SingleProcess().
// MPI is finalised when the returned object is destroyed.
std::unique_ptr<Comm> WorldComm();

// Whether this binary was built with MPI support.
bool BuiltWithMpi();

}  // namespace pf::search
