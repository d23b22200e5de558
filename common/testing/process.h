// Runs a service binary as a child process, for tests that must kill it.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace htx::testing {

class ChildProcess {
 public:
  // Starts `binary` with `args`; waits until it prints a line containing
  // "listening on HOST:PORT" and records that address. Aborts the test
  // binary if the child does not come up within 30 s.
  ChildProcess(const std::string& binary, const std::vector<std::string>& args);
  // Kills (SIGKILL) the child if still running.
  ~ChildProcess();

  const std::string& address() const { return address_; }
  // Sends `signal` and waits; returns the exit status as from waitpid.
  int Stop(int signal);

 private:
  pid_t pid_ = -1;
  int stdout_fd_ = -1;
  std::string address_;
};

}  // namespace htx::testing
