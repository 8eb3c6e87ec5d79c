// SPDX-License-Identifier: MIT
// Storage lock and privilege drop (see privileges.h).
#include "daemon/privileges.h"

#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <spdlog/spdlog.h>

namespace holdfast::daemon {
namespace {

// Hands the storage directory and its entries to the user. Relative to the directory's fd and
// with AT_SYMLINK_NOFOLLOW: a symlink planted there is never followed (its target, say a file
// of root's, keeps its owner), and the directory cannot be swapped for a link meanwhile.
Status chown_storage(const std::string &storage, uid_t uid, gid_t gid) {
  int dirfd = ::open(storage.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dirfd < 0) {
    return fail("server.user: cannot open " + storage + ": " + std::strerror(errno));
  }
  DIR *dir = ::fdopendir(::dup(dirfd));
  if (dir == nullptr) {
    ::close(dirfd);
    return fail("server.user: cannot list " + storage + ": " + std::strerror(errno));
  }
  while (const dirent *e = ::readdir(dir)) {
    if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0) {
      (void)::fchownat(dirfd, e->d_name, uid, gid, AT_SYMLINK_NOFOLLOW);
    }
  }
  ::closedir(dir);
  int rc = ::fchown(dirfd, uid, gid);
  int err = errno;
  ::close(dirfd);
  if (rc != 0) {
    return fail("server.user: cannot hand " + storage + " over: " + std::strerror(err));
  }
  return Ok{};
}

} // namespace

// One server per store: SO_REUSEPORT would otherwise let a second instance share the ports
// silently. The lock dies with the process, so a SIGKILL never leaves a stale lock behind.
Result<int> lock_storage(const std::string &dir) {
  std::string path = dir + "/holdfast.lock";
  // O_NOFOLLOW: a symlink planted in the storage directory is never written through.
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0640);
  if (fd < 0) {
    return fail(
        "cannot open " + path + ": " +
        (errno == ELOOP ? std::string("it is a symbolic link (refused)") : std::strerror(errno)));
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    char pid[32] = {0};
    ssize_t n = ::pread(fd, pid, sizeof(pid) - 1, 0);
    ::close(fd);
    return fail("storage " + dir + " is in use by another holdfast" +
                (n > 0 ? " (pid " + std::string(pid, static_cast<size_t>(n)) + ")" : ""));
  }
  std::string me = std::to_string(::getpid());
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, me.data(), me.size(), 0) < 0) {
    spdlog::warn("cannot write pid to {}", path);
  }
  return fd;
}

// Port 53 is bound as root; then the process becomes `server.user` (its storage files handed
// over to it first, so that a later start as that user can open them).
Status drop_privileges(const std::string &user, const std::string &storage) {
  if (user.empty()) {
    return Ok{};
  }
  const passwd *pw = ::getpwnam(user.c_str());
  if (pw == nullptr) {
    return fail("server.user: no user '" + user + "' on this system");
  }
  if (::geteuid() != 0) {
    if (::geteuid() == pw->pw_uid) {
      return Ok{};
    }
    return fail("server.user: cannot become '" + user + "' without starting as root");
  }
  if (auto st = chown_storage(storage, pw->pw_uid, pw->pw_gid); !st) {
    return st;
  }
  if (::initgroups(pw->pw_name, pw->pw_gid) != 0 || ::setgid(pw->pw_gid) != 0 ||
      ::setuid(pw->pw_uid) != 0) {
    return fail("server.user: cannot become '" + user + "': " + std::strerror(errno));
  }
  if (::setuid(0) == 0) {
    return fail("server.user: root could be regained after becoming '" + user + "'");
  }
  return Ok{};
}

} // namespace holdfast::daemon
