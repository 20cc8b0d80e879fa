# The dependencies of ferx::ferx, found the same way in the build tree and by an installed
# ferxConfig.cmake (which includes this file). Sets FERX_INTERFACE_LIBRARIES.
include(CMakeFindDependencyMacro)

# OpenCV components ferx headers include (I/O, interop, and the peers tests compare against).
set(FERX_OPENCV_COMPONENTS core imgproc imgcodecs)

# Inside find_package(ferx) use find_dependency (it forwards QUIET/REQUIRED and reports which
# dependency is missing); in ferx's own build every dependency is simply required.
macro(_ferx_find_dependency package)
  if(CMAKE_FIND_PACKAGE_NAME)
    find_dependency(${package} ${ARGN})
  else()
    find_package(${package} REQUIRED ${ARGN})
  endif()
endmacro()

_ferx_find_dependency(Threads)
_ferx_find_dependency(xtl)
_ferx_find_dependency(xtensor)
_ferx_find_dependency(xtensor-blas)   # brings BLAS and LAPACK and links them
_ferx_find_dependency(OpenCV COMPONENTS ${FERX_OPENCV_COMPONENTS})

set(FERX_INTERFACE_LIBRARIES xtensor xtensor-blas Threads::Threads)
foreach(_ferx_component IN LISTS FERX_OPENCV_COMPONENTS)
  list(APPEND FERX_INTERFACE_LIBRARIES opencv_${_ferx_component})
endforeach()
unset(_ferx_component)
