/* Glue for the axis functions of actcore._core (see _glue.h). */
#include "_glue.h"

PyMethodDef act_axis_methods[] = {
    {NULL, NULL, 0, NULL},
};
