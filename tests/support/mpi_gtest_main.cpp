// gtest main for tests run under mpirun: every rank runs every test; rank 0 prints; the exit code
// is the MAX over ranks, so a failure on any rank fails the run. Each rank writes its own XML.
#include <gtest/gtest.h>
#include <mpi.h>

#include <cstdio>
#include <cstdlib>
#include <string>

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  int rank = 0, world = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &world);
  if (const char* dir = std::getenv("NEGATRON_TEST_XML_DIR")) {
    GTEST_FLAG_SET(output, std::string("xml:") + dir + "/rank" + std::to_string(rank) + ".xml");
  }
  ::testing::InitGoogleTest(&argc, argv);
  if (rank != 0) {
    auto& listeners = ::testing::UnitTest::GetInstance()->listeners();
    delete listeners.Release(listeners.default_result_printer());
  }
  int local = RUN_ALL_TESTS();
  int global = 0;
  MPI_Allreduce(&local, &global, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  if (rank == 0) std::printf("[mpi] %d rank(s): %s\n", world, global == 0 ? "all ranks passed" : "FAILED on some rank");
  MPI_Finalize();
  return global;
}
