// The sweep driver (see driver.h).
#include "pathfinder/search/driver.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <numeric>

#include "pathfinder/core/check.h"

namespace pf::search {
namespace {

template <class T>
void Put(std::string& out, const T& v) {
  out.append(reinterpret_cast<const char*>(&v), sizeof(T));
}
void PutString(std::string& out, const std::string& s) {
  Put<uint64_t>(out, s.size());
  out += s;
}

class Reader {
 public:
  explicit Reader(const std::string& s) : s_(s) {}
  bool done() const { return at_ == s_.size(); }
  template <class T>
  T Get() {
    PF_CHECK(at_ + sizeof(T) <= s_.size(), "truncated evaluation bytes");
    T v;
    std::memcpy(&v, s_.data() + at_, sizeof(T));
    at_ += sizeof(T);
    return v;
  }
  std::string GetString() {
    const uint64_t n = Get<uint64_t>();
    PF_CHECK(at_ + n <= s_.size(), "truncated evaluation bytes");
    std::string v = s_.substr(at_, n);
    at_ += n;
    return v;
  }

 private:
  const std::string& s_;
  size_t at_ = 0;
};

std::string SerializeIndices(const std::vector<size_t>& v) {
  std::string s;
  for (size_t i : v) Put<uint64_t>(s, i);
  return s;
}

}  // namespace

std::string Serialize(const std::vector<size_t>& indices, const std::vector<Evaluation>& evaluations) {
  std::string out;
  for (size_t k = 0; k < indices.size(); ++k) {
    const Evaluation& e = evaluations[k];
    Put<uint64_t>(out, indices[k]);
    Put<uint8_t>(out, e.feasible ? 1 : 0);
    PutString(out, e.reason);
    Put<uint64_t>(out, e.metrics.size());
    for (double m : e.metrics) Put<double>(out, m);
    PutString(out, e.details);
  }
  return out;
}

void Deserialize(const std::string& bytes, std::vector<size_t>* indices, std::vector<Evaluation>* evaluations) {
  Reader r(bytes);
  while (!r.done()) {
    indices->push_back(r.Get<uint64_t>());
    Evaluation e;
    e.feasible = r.Get<uint8_t>() != 0;
    e.reason = r.GetString();
    e.metrics.resize(r.Get<uint64_t>());
    for (double& m : e.metrics) m = r.Get<double>();
    e.details = r.GetString();
    evaluations->push_back(std::move(e));
  }
}

Result<size_t> RunDistributed(const std::vector<size_t>& pending_on_root, const EvaluateFn& evaluate, const SinkFn& sink, Comm& comm,
                              ThreadPool& pool, const DriverOptions& options) {
  std::vector<size_t> pending;
  {
    const std::string bytes = comm.Broadcast(comm.is_root() ? SerializeIndices(pending_on_root) : std::string());
    pending.resize(bytes.size() / sizeof(uint64_t));
    for (size_t i = 0; i < pending.size(); ++i) {
      uint64_t v;
      std::memcpy(&v, bytes.data() + i * sizeof(uint64_t), sizeof(v));
      pending[i] = v;
    }
  }
  const size_t ranks = size_t(comm.size()), rank = size_t(comm.rank());
  const size_t per_rank = options.batch_per_rank > 0 ? options.batch_per_rank : 32 * size_t(pool.threads());
  const size_t batch = per_rank * ranks;
  size_t evaluated = 0;
  for (size_t begin = 0; begin < pending.size(); begin += batch) {
    const size_t end = std::min(pending.size(), begin + batch);
    std::vector<size_t> mine;
    for (size_t j = begin + rank; j < end; j += ranks) mine.push_back(pending[j]);
    std::vector<Evaluation> out(mine.size());
    pool.ParallelFor(mine.size(), [&](size_t k) { out[k] = evaluate(mine[k]); });

    std::vector<std::string> parts = comm.Gather(Serialize(mine, out));
    std::string status;  // empty = go on; else the error that stops every rank
    if (comm.is_root()) {
      std::vector<size_t> idx;
      std::vector<Evaluation> evs;
      for (const auto& p : parts) Deserialize(p, &idx, &evs);
      std::vector<size_t> order(idx.size());
      std::iota(order.begin(), order.end(), 0);
      std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return idx[a] < idx[b]; });
      std::vector<size_t> sidx;
      std::vector<Evaluation> sevs;
      for (size_t o : order) {
        sidx.push_back(idx[o]);
        sevs.push_back(std::move(evs[o]));
      }
      auto r = sink(sidx, sevs);
      if (!r.ok()) status = r.error();
      if (options.progress != nullptr) options.progress->Advance(sidx.size());
    }
    if (ranks > 1) status = comm.Broadcast(status);
    if (!status.empty()) return Error{status};
    evaluated += end - begin;
  }
  return evaluated;
}

}  // namespace pf::search
