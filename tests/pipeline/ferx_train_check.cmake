# Runs ferx-train on a small CK+48 configuration (3 subject-grouped folds, HOG + linear SVM) and
# checks the model file and the report it writes; then checks that a missing dataset folder is
# refused with a message. Invoked by CTest:
#   cmake -DFERX_TRAIN=<exe> -DSHARED=<shared dir> -DWORK=<scratch dir> -P ferx_train_check.cmake
# Exits with code 77 (CTest: skipped) when the shared data folder is absent.
if(NOT IS_DIRECTORY "${SHARED}/data/ckplus48")
  message("shared data not found at '${SHARED}/data/ckplus48'; skipping the ferx-train check")
  cmake_language(EXIT 77)
endif()
file(REMOVE_RECURSE "${WORK}")
file(MAKE_DIRECTORY "${WORK}")
execute_process(
  COMMAND "${FERX_TRAIN}" --layout ckplus48 --data "${SHARED}/data/ckplus48" --folds 3
          --spec "hog:pre(eq=global):std:linear(C=1)" --model "${WORK}/m.ferx" --report "${WORK}/report"
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "ferx-train failed (${rc}):\n${out}\n${err}")
endif()
# The model file: one model_io file holding the pipeline and its spec.
file(STRINGS "${WORK}/m.ferx" model_head LIMIT_COUNT 3)
list(GET model_head 0 magic)
if(NOT magic STREQUAL "ferx-model 1" OR NOT "${model_head}" MATCHES "section pipeline")
  message(FATAL_ERROR "unexpected model file start: ${model_head}")
endif()
# The CSV: header with the 7 CK+ classes, 7 rows whose counts sum to the 981 images.
file(STRINGS "${WORK}/report/confusion.csv" csv)
list(LENGTH csv rows)
list(GET csv 0 header)
if(NOT rows EQUAL 8 OR NOT header STREQUAL "true,anger,contempt,disgust,fear,happy,sadness,surprise,precision,recall,f1,support")
  message(FATAL_ERROR "unexpected confusion.csv:\n${csv}")
endif()
set(total 0)
foreach(i RANGE 1 7)
  list(GET csv ${i} line)
  string(REPLACE "," ";" cells "${line}")
  list(GET cells 11 support)
  math(EXPR total "${total} + ${support}")
endforeach()
if(NOT total EQUAL 981)
  message(FATAL_ERROR "confusion.csv supports sum to ${total}, expected 981")
endif()
# The PNG signature, and the markdown report with its figures.
file(READ "${WORK}/report/confusion.png" png_head LIMIT 8 HEX)
if(NOT png_head STREQUAL "89504e470d0a1a0a")
  message(FATAL_ERROR "confusion.png is not a PNG (${png_head})")
endif()
file(READ "${WORK}/report/report.md" md)
if(NOT md MATCHES "\\| accuracy \\| [0-9]+\\.[0-9][0-9] ±" OR NOT md MATCHES "subjects grouped")
  message(FATAL_ERROR "report.md lacks the accuracy line or the evaluation plan:\n${md}")
endif()
# The printed fold-averaged accuracy reaches a floor (HOG + linear SVM on 3 folds: measured 0.866).
string(REGEX MATCH "fold-averaged accuracy ([0-9.]+)" _ "${out}")
set(accuracy "${CMAKE_MATCH_1}")
if(NOT accuracy OR accuracy LESS 0.85)
  message(FATAL_ERROR "fold-averaged accuracy '${accuracy}' below the floor 0.85:\n${out}")
endif()
# A missing dataset folder: non-zero exit and a message naming the folder.
execute_process(COMMAND "${FERX_TRAIN}" --layout ckplus48 --data "${WORK}/no_such_folder" --model "${WORK}/x.ferx"
                RESULT_VARIABLE rc2 OUTPUT_VARIABLE out2 ERROR_VARIABLE err2)
if(rc2 EQUAL 0 OR NOT err2 MATCHES "no_such_folder")
  message(FATAL_ERROR "a missing dataset folder was not refused clearly (${rc2}): ${err2}")
endif()
if(EXISTS "${WORK}/x.ferx")
  message(FATAL_ERROR "a model file was written for a missing dataset")
endif()
file(REMOVE_RECURSE "${WORK}")
message("ferx-train check passed: ${accuracy} fold-averaged accuracy on 3 folds")
